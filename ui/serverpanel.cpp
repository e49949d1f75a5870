#include "serverpanel.h"

#include <QDir>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include "awq/serve/openai_server.h"

// The server is declared after the model it serves, so it is destroyed (stopped) first,
// whichever thread lets go of it last.
struct ServedModel {
    std::unique_ptr<awq::serve::ChatModelBackend> backend;
    std::unique_ptr<awq::serve::OpenAiServer> server;
};

ServerPanel::ServerPanel(QWidget *parent) : QGroupBox(tr("Serve this model"), parent)
{
    m_portSpin = new QSpinBox;
    m_portSpin->setRange(1, 65535);
    m_portSpin->setValue(8080);
    m_keyEdit = new QLineEdit;
    m_keyEdit->setEchoMode(QLineEdit::Password);
    m_keyEdit->setPlaceholderText(tr("none"));
    m_keyEdit->setToolTip(tr("Clients must send 'Authorization: Bearer KEY'. The key keeps other programs and users "
                             "on this computer from using the model; it encrypts nothing (plain HTTP)."));
    m_startButton = new QPushButton(tr("Start server"));
    m_statusLabel = new QLabel;
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *form = new QFormLayout;
    form->addRow(tr("Port"), m_portSpin);
    form->addRow(tr("API key"), m_keyEdit);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_startButton);
    layout->addWidget(m_statusLabel);

    m_refresh = new QTimer(this);
    m_refresh->setInterval(1000);
    connect(m_refresh, &QTimer::timeout, this, &ServerPanel::refreshStatus);
    connect(m_startButton, &QPushButton::clicked, this, [this] { isServing() ? stop() : start(); });
    updateControls();
}

ServerPanel::~ServerPanel()
{
    if (m_served)
        m_served->server->stop();
}

void ServerPanel::setModel(const QString &folder, const QString &device)
{
    if (folder == m_folder && device == m_device)
        return;
    if (isServing())
        stop();
    m_folder = folder;
    m_device = device;
    m_error.clear();
    updateControls();
}

bool ServerPanel::isServing() const
{
    return m_served != nullptr;
}

QString ServerPanel::url() const
{
    return m_served ? QString::fromStdString(m_served->server->url()) + QStringLiteral("/v1") : QString();
}

QString ServerPanel::statusText() const
{
    return m_statusLabel->text();
}

void ServerPanel::start()
{
    if (m_busy || m_served || m_folder.isEmpty())
        return;
    m_busy = true;
    m_error.clear();
    m_statusLabel->setText(tr("Loading the model for the server…"));
    updateControls();
    awq::serve::ServerOptions options;
    options.port = m_portSpin->value();
    options.apiKey = m_keyEdit->text().toStdString();
    const std::string folder = QDir::toNativeSeparators(m_folder).toStdString();
    const std::string device = m_device.isEmpty() ? std::string("cpu") : m_device.toStdString();
    auto served = std::make_shared<ServedModel>();
    auto error = std::make_shared<QString>();
    QThread *thread = QThread::create([=] {
        try {
            served->backend = std::make_unique<awq::serve::ChatModelBackend>(folder, 1, 0, device);
            served->server = std::make_unique<awq::serve::OpenAiServer>(*served->backend, options);
            served->server->start();
        } catch (const std::exception &e) {
            served->server.reset();
            served->backend.reset();
            *error = QString::fromStdString(e.what());
        }
    });
    // The thread object (and with it a server started after the panel was closed) goes
    // when the thread ends, whether or not the panel is still there.
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    QPointer<ServerPanel> self(this);
    connect(thread, &QThread::finished, this, [self, served, error] {
        if (!self)
            return;
        self->m_busy = false;
        if (served->server)
            self->m_served = served;
        self->m_error = *error;
        if (self->m_served)
            self->m_refresh->start();
        self->refreshStatus();
        self->updateControls();
        Q_EMIT self->servingChanged(self->isServing());
    });
    thread->start();
}

void ServerPanel::stop()
{
    if (!m_served || m_busy)
        return;
    m_refresh->stop();
    m_busy = true;
    m_statusLabel->setText(tr("Stopping the server…"));
    updateControls();
    // Stopping cancels the running request and waits for its next token: off the GUI thread.
    std::shared_ptr<ServedModel> served = std::move(m_served);
    QThread *thread = QThread::create([served] { served->server->stop(); });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    QPointer<ServerPanel> self(this);
    connect(thread, &QThread::finished, this, [self] {
        if (!self)
            return;
        self->m_busy = false;
        self->refreshStatus();
        self->updateControls();
        Q_EMIT self->servingChanged(false);
    });
    thread->start();
}

void ServerPanel::refreshStatus()
{
    if (m_busy)
        return;
    if (m_served) {
        const awq::serve::ServerStats st = m_served->server->stats();
        m_statusLabel->setText(tr("Serving at %1 — %n request(s)", nullptr, static_cast<int>(st.requests))
                                   .arg(url()) +
                               (st.running ? tr(", answering") : QString()));
    } else if (!m_error.isEmpty()) {
        m_statusLabel->setText(tr("Could not start: %1").arg(m_error));
    } else {
        m_statusLabel->setText(m_folder.isEmpty() ? tr("Load a model to serve it with the OpenAI API.")
                                                  : tr("Not serving. Clients would use http://127.0.0.1:%1/v1")
                                                        .arg(m_portSpin->value()));
    }
}

void ServerPanel::updateControls()
{
    const bool serving = isServing();
    m_startButton->setText(serving ? tr("Stop server") : tr("Start server"));
    m_startButton->setEnabled(!m_busy && (serving || !m_folder.isEmpty()));
    m_portSpin->setEnabled(!serving && !m_busy);
    m_keyEdit->setEnabled(!serving && !m_busy);
    refreshStatus();
}
