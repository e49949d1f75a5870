// "Serve this model" on the Chat page (ui/serverpanel.*): it serves the loaded model on the
// port and with the key given, answers a real HTTP client, counts the requests in its
// status line, stops when the chat loads another model, and says why when it cannot start.

#include <filesystem>

#include <QLineEdit>
#include <QSpinBox>
#include <QtTest>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serverpanel.h"

namespace {

// A loopback socket bound to a free port (listening when `listen`); the port is in .port.
struct BoundSocket {
    int fd = -1, port = 0;
    explicit BoundSocket(bool listening)
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof addr;
        if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), size) == 0
            && ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &size) == 0)
            port = ntohs(addr.sin_port);
        if (listening)
            ::listen(fd, 1);
    }
    ~BoundSocket() { close(); }
    void close()
    {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
};

const QString kDemo = QStringLiteral(AWQ_SOURCE_DIR "/resources/models/demo-llama");

} // namespace

class TestServerPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!std::filesystem::exists(kDemo.toStdString() + "/model.safetensors"))
            QSKIP("the demo model is not in this checkout");
    }

    void servesTheModelUntilAnotherIsLoaded()
    {
        ServerPanel panel;
        QVERIFY(!panel.isServing());
        panel.setModel(kDemo, QStringLiteral("cpu"));
        BoundSocket probe(false);
        const int port = probe.port;
        probe.close(); // free again for the server
        QVERIFY(port > 0);
        panel.portSpin()->setValue(port);
        panel.keyEdit()->setText(QStringLiteral("panel-key"));
        panel.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.isServing(), 60000);
        const QString url = QStringLiteral("http://127.0.0.1:%1/v1").arg(port);
        QCOMPARE(panel.url(), url);
        QVERIFY(!panel.portSpin()->isEnabled());

        httplib::Client client("127.0.0.1", port);
        QCOMPARE(client.Get("/v1/models")->status, 401);
        const auto models = client.Get("/v1/models", httplib::Headers{{"Authorization", "Bearer panel-key"}});
        QVERIFY(models);
        QCOMPARE(models->status, 200);
        QVERIFY(models->body.find("demo-llama") != std::string::npos);
        QTRY_VERIFY_WITH_TIMEOUT(panel.statusText().contains(url) && panel.statusText().contains(QStringLiteral("2 request")),
                                 5000);

        // The chat starts loading another model: the server stops and the port is free.
        panel.setModel(QString(), QString());
        QVERIFY(!panel.isServing());
        QTRY_VERIFY_WITH_TIMEOUT(!panel.statusText().contains(QStringLiteral("Stopping")), 30000);
        QVERIFY(!httplib::Client("127.0.0.1", port).Get("/health"));
    }

    void saysWhyItCannotStart()
    {
        BoundSocket taken(true);
        ServerPanel panel;
        panel.setModel(kDemo, QStringLiteral("cpu"));
        panel.portSpin()->setValue(taken.port);
        panel.start();
        QTRY_VERIFY_WITH_TIMEOUT(panel.statusText().startsWith(QStringLiteral("Could not start")), 60000);
        QVERIFY(panel.statusText().contains(QString::number(taken.port)));
        QVERIFY(!panel.isServing());
    }
};

QTEST_MAIN(TestServerPanel)
#include "tst_server_panel.moc"
