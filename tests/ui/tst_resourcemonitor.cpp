// The resource monitor samples real figures, refreshes on its timer and keeps a bounded history.

#include <QtTest>

#include <vector>

#include "resourcemonitor.h"

class TestResourceMonitor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sampleIsPlausible()
    {
        const ResourceSample s = ResourceMonitor::sampleNow();
        QVERIFY(s.processRss > 1024 * 1024);          // a Qt process is bigger than 1 MiB
        QVERIFY(s.processPeakRss >= s.processRss);
        QVERIFY(s.systemTotal > s.processRss);
        QVERIFY(s.systemAvailable > 0 && s.systemAvailable <= s.systemTotal);
    }

    void followsAllocations()
    {
        const quint64 before = ResourceMonitor::sampleNow().processRss;
        std::vector<char> block(256u << 20, 1); // touched: resident
        const quint64 during = ResourceMonitor::sampleNow().processRss;
        QVERIFY2(during > before + (200u << 20), qPrintable(QString("%1 -> %2").arg(before).arg(during)));
        QCOMPARE(block[12345], char(1));
    }

    void refreshesOnItsTimer()
    {
        ResourceMonitor monitor(nullptr, 20);
        QSignalSpy spy(&monitor, &ResourceMonitor::sampled);
        QVERIFY2(monitor.text().startsWith(QStringLiteral("RAM ")) && monitor.text().contains(QStringLiteral(", peak ")),
                 qPrintable(monitor.text()));
        QTRY_VERIFY_WITH_TIMEOUT(spy.count() >= 3, 5000);
        QVERIFY(monitor.history().size() >= 4);
        const auto &h = monitor.history();
        QVERIFY(h.last().msSinceStart > h.first().msSinceStart);
    }
};

QTEST_MAIN(TestResourceMonitor)
#include "tst_resourcemonitor.moc"
