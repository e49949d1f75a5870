#pragma once
// ServerPanel: "Serve this model" on the Chat page. Serves the chat's loaded model folder
// with the OpenAI API on 127.0.0.1 (awq/serve/openai_server.h): a port, an optional API key,
// Start / Stop, and a status line with the URL and the request count. The server loads its
// own copy of the model and answers on its own threads, so the chat window stays usable;
// loading and stopping run on a worker thread. It stops when the chat loads another model,
// and with the page. GUI thread only.

#include <memory>

#include <QGroupBox>
#include <QString>

class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTimer;

struct ServedModel; // the loaded model and its server (serverpanel.cpp)

class ServerPanel final : public QGroupBox
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerPanel)

public:
    explicit ServerPanel(QWidget *parent = nullptr);
    ~ServerPanel() override; // stops the server (waits for the running request's next token)

    // The model to serve (empty: none loaded). A different folder stops a running server.
    void setModel(const QString &folder, const QString &device);
    bool isServing() const;
    QString url() const;            // "http://127.0.0.1:8080/v1" while serving, else empty
    QString statusText() const;
    QSpinBox *portSpin() const { return m_portSpin; }
    QLineEdit *keyEdit() const { return m_keyEdit; }

public Q_SLOTS:
    void start();
    void stop();

Q_SIGNALS:
    void servingChanged(bool serving);

private:
    void refreshStatus();
    void updateControls();

    QSpinBox *m_portSpin = nullptr;
    QLineEdit *m_keyEdit = nullptr;
    QPushButton *m_startButton = nullptr;
    QLabel *m_statusLabel = nullptr;
    QTimer *m_refresh = nullptr;
    QString m_folder, m_device, m_error;
    bool m_busy = false; // loading or stopping on the worker thread
    std::shared_ptr<ServedModel> m_served;
};
