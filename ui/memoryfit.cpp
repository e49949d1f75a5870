#include "memoryfit.h"

#include <QObject>
#include <QStringList>

#include "awq/core/gpu_memory.h"
#include "awq/core/memory.h"
#include "awq/model/memory_estimate.h"
#include "quantizepagehelpers.h"
#include "theme.h"

namespace memoryfit {

Verdict verdictFor(quint64 needBytes, quint64 freeBytes)
{
    if (freeBytes == 0)
        return Verdict::Unknown;
    if (needBytes * 10 <= freeBytes * 8)
        return Verdict::Fits;
    return needBytes <= freeBytes ? Verdict::Tight : Verdict::DoesNotFit;
}

std::vector<Line> estimate(const awq::ModelConfig &config, qint64 context)
{
    const bool quantized = config.quantization.present;
    const int64_t group = quantized && config.quantization.groupSize > 0 ? config.quantization.groupSize : 128;
    const awq::MemoryEstimate e = awq::estimateMemory(config, group, awq::kTypicalCalibrationTokens, context);
    std::vector<Line> lines;
    Line cpu;
    cpu.device = QObject::tr("CPU");
    cpu.needBytes = quantized ? e.int4Cpu : e.fp32Cpu;
    cpu.freeBytes = awq::systemMemory().availableBytes;
    cpu.verdict = verdictFor(cpu.needBytes, cpu.freeBytes);
    lines.push_back(cpu);
    for (const awq::GpuMemory &gpu : awq::queryGpuMemory()) {
        Line line;
        line.device = QObject::tr("GPU %1 (%2)").arg(gpu.index).arg(QString::fromStdString(gpu.name));
        line.needBytes = quantized ? e.int4Gpu : e.fp16Gpu;
        line.freeBytes = gpu.totalBytes > gpu.usedBytes ? gpu.totalBytes - gpu.usedBytes : 0;
        line.verdict = verdictFor(line.needBytes, line.freeBytes);
        lines.push_back(line);
    }
    return lines;
}

QString describe(const std::vector<Line> &lines)
{
    QStringList parts;
    for (const Line &line : lines) {
        QString verdict;
        switch (line.verdict) {
        case Verdict::Fits: verdict = Theme::toned(QObject::tr("fits"), Theme::Tone::Ok); break;
        case Verdict::Tight: verdict = Theme::toned(QObject::tr("tight"), Theme::Tone::Warning); break;
        case Verdict::DoesNotFit: verdict = Theme::toned(QObject::tr("does not fit"), Theme::Tone::Error); break;
        case Verdict::Unknown: verdict = QObject::tr("free memory unknown"); break;
        }
        parts << QObject::tr("%1: %2 (needs about %3, %4 free)")
                     .arg(line.device.toHtmlEscaped(), verdict, quantui::bytesText(line.needBytes),
                          quantui::bytesText(line.freeBytes));
    }
    return parts.join(QStringLiteral(" · "));
}

} // namespace memoryfit
