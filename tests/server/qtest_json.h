#pragma once
// QCOMPARE on nlohmann::json values: a failure prints both as JSON text.

#include <QtTest>
#include <nlohmann/json.hpp>

namespace QTest {
template <>
inline char *toString(const nlohmann::json &value)
{
    return qstrdup(value.dump().c_str());
}
} // namespace QTest
