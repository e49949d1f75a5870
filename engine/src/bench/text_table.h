#pragma once
// A Markdown table (what AutoAWQ's benchmark prints, readable on a terminal and
// pasteable into docs): columns padded to their widest cell, numbers right-aligned.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace awq::bench::detail {

inline std::string renderTable(const std::vector<std::string> &header, const std::vector<std::vector<std::string>> &rows,
                               const std::vector<bool> &rightAligned)
{
    std::vector<size_t> width(header.size());
    for (size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const auto &row : rows)
            width[c] = std::max(width[c], row[c].size());
    }
    auto line = [&](const std::vector<std::string> &cells) {
        std::string out = "|";
        for (size_t c = 0; c < cells.size(); ++c) {
            const std::string pad(width[c] - cells[c].size(), ' ');
            out += " " + (rightAligned[c] ? pad + cells[c] : cells[c] + pad) + " |";
        }
        return out + "\n";
    };
    std::string out = line(header) + "|";
    for (size_t c = 0; c < header.size(); ++c)
        out += std::string(width[c] + 1, '-') + (rightAligned[c] ? ":" : "-") + "|";
    out += "\n";
    for (const auto &row : rows)
        out += line(row);
    return out;
}

// printf-style formatting into a std::string.
template <typename... Args>
std::string format(const char *fmt, Args... args)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

} // namespace awq::bench::detail
