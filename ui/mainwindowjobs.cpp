// MainWindow's running jobs: the indicator (which signals of the pages start, advance and end
// each job it shows, and where a click on it goes), and stopping them before quitting.

#include <QFileInfo>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>

#include <algorithm>
#include <memory>

#include "benchmarkpage.h"
#include "chatpage.h"
#include "chatsessionwidget.h"
#include "chatworker.h"
#include "jobindicator.h"
#include "mainwindow.h"
#include "quantizewizard.h"
#include "quantizeworker.h"

void MainWindow::watchJobs()
{
    const auto goToPage = [this](Page page) {
        return [this, page] {
            showPage(page);
            raise();
            activateWindow();
        };
    };

    // The benchmark: its share done and the row it measures.
    connect(m_benchmarkPage, &BenchmarkPage::runningChanged, this, [this, goToPage](bool running) {
        if (running)
            m_jobs->setJob(QStringLiteral("benchmark"), tr("Benchmark: starting"), -1, goToPage(Page::Benchmark));
        else
            m_jobs->endJob(QStringLiteral("benchmark"));
    });
    connect(m_benchmarkPage, &BenchmarkPage::progressChanged, this,
            [this, goToPage](double fraction, const QString &status) {
                if (!m_benchmarkPage->isRunning())
                    return; // a late report of a run that has ended
                m_jobs->setJob(QStringLiteral("benchmark"), tr("Benchmark: %1").arg(status), fraction,
                               goToPage(Page::Benchmark));
            });

    // Each chat session: a model loading, then each reply (tokens so far of max new tokens).
    const ChatSessionWidget *sessions[2] = {m_chatPage->primarySession(), m_chatPage->compareSession()};
    for (int side = 0; side < 2; ++side) {
        const QString id = QStringLiteral("chat%1").arg(side);
        ChatController *chat = sessions[side]->controller();
        auto tokens = std::make_shared<qint64>(0);
        auto loading = std::make_shared<QString>();
        connect(chat, &ChatController::loadStarted, this, [this, id, loading, goToPage](const QString &folder) {
            *loading = tr("Loading %1").arg(QFileInfo(folder).fileName());
            m_jobs->setJob(id, *loading, -1, goToPage(Page::Chat));
        });
        connect(chat, &ChatController::loadProgress, this,
                [this, id, chat, loading, goToPage](qint64 done, qint64 total, const QString &) {
                    if (chat->isLoading() && total > 0)
                        m_jobs->setJob(id, *loading, double(done) / double(total), goToPage(Page::Chat));
                });
        connect(chat, &ChatController::busyChanged, this, [this, id, chat, tokens, goToPage](bool busy) {
            *tokens = 0;
            if (!busy)
                m_jobs->endJob(id);
            else if (chat->isGenerating())
                m_jobs->setJob(id, tr("Chat reply: starting"), 0, goToPage(Page::Chat));
        });
        connect(chat, &ChatController::replyText, this, [this, id, chat, tokens, goToPage](const QString &) {
            if (!chat->isGenerating())
                return;
            const qint64 most = std::max<qint64>(1, m_chatPage->settings().maxNewTokens);
            *tokens += 1; // one piece of text per generated token
            m_jobs->setJob(id, tr("Chat reply: %1 of at most %2 tokens").arg(*tokens).arg(most),
                           double(*tokens) / double(most),
                           goToPage(Page::Chat));
        });
    }
}

void MainWindow::watchWizard(QuantizeWizard *wizard)
{
    // One wizard's run and its perplexity comparison; a click brings the wizard forward.
    const QString run = QStringLiteral("quantize-%1").arg(quintptr(wizard), 0, 16);
    const QString perplexity = QStringLiteral("perplexity-%1").arg(quintptr(wizard), 0, 16);
    const QPointer<QuantizeWizard> guarded(wizard);
    const auto goToWizard = [this, guarded] {
        showPage(Page::Quantize);
        if (guarded) {
            guarded->show();
            guarded->raise();
            guarded->activateWindow();
        }
    };
    QuantizeController *controller = wizard->controller();
    connect(controller, &QuantizeController::progress, this,
            [this, run, guarded, goToWizard](const QString &phase, qint64 layer, qint64 layers, const QString &,
                                             double fraction, double, quint64, quint64) {
                const QString name = guarded ? QFileInfo(guarded->modelFolder()).fileName() : QString();
                const QString step =
                    layer >= 0 && layers > 0 ? tr("%1, layer %2/%3").arg(phase).arg(layer + 1).arg(layers) : phase;
                m_jobs->setJob(run, tr("Quantizing %1: %2").arg(name, step), fraction, goToWizard);
            });
    connect(controller, &QuantizeController::finished, this, [this, run] { m_jobs->endJob(run); });
    connect(controller, &QuantizeController::failed, this, [this, run] { m_jobs->endJob(run); });
    connect(controller, &QuantizeController::cancelled, this, [this, run] { m_jobs->endJob(run); });

    connect(controller, &QuantizeController::perplexityProgress, this,
            [this, perplexity, goToWizard](const QString &which, qint64 done, qint64 total) {
                // The original model first, then the quantized one: half the bar each.
                const double half = total > 0 ? 0.5 * double(done) / double(total) : 0;
                const double fraction = which == QuantizeWorker::tr("quantized") ? 0.5 + half : half;
                m_jobs->setJob(perplexity, tr("Perplexity of the %1 model: window %2/%3").arg(which).arg(done).arg(total),
                               fraction, goToWizard);
            });
    connect(controller, &QuantizeController::perplexityMeasured, this,
            [this, perplexity] { m_jobs->endJob(perplexity); });
    connect(controller, &QuantizeController::perplexityFailed, this,
            [this, perplexity] { m_jobs->endJob(perplexity); });
    connect(wizard, &QObject::destroyed, this, [this, run, perplexity] {
        m_jobs->endJob(run);
        m_jobs->endJob(perplexity);
    });
}

QStringList MainWindow::runningJobs() const
{
    QStringList jobs;
    for (const QuantizeWizard *wizard : findChildren<QuantizeWizard *>())
        if (wizard->isRunning())
            jobs << tr("a quantization");
    if (m_benchmarkPage->isRunning())
        jobs << tr("a benchmark");
    if (m_chatPage->primarySession()->controller()->isGenerating()
        || m_chatPage->compareSession()->controller()->isGenerating())
        jobs << tr("a chat reply");
    return jobs;
}

bool MainWindow::confirmStopJobs(const QStringList &jobs)
{
    QString running = QLocale().createSeparatedList(jobs);
    running[0] = running.at(0).toUpper();
    QMessageBox box(QMessageBox::Question, tr("Quit AWQ Studio"),
                    tr("%1 is still running. Stop it and quit?\n\nA stopped quantization writes nothing; "
                       "a stopped benchmark keeps no results.").arg(running),
                    QMessageBox::Yes | QMessageBox::No, this);
    box.setObjectName(QStringLiteral("quitConfirmBox"));
    box.setDefaultButton(QMessageBox::No);
    box.button(QMessageBox::Yes)->setText(tr("Stop and Quit"));
    box.button(QMessageBox::No)->setText(tr("Keep Running"));
    return box.exec() == QMessageBox::Yes;
}

void MainWindow::stopJobsThenClose()
{
    for (QuantizeWizard *wizard : findChildren<QuantizeWizard *>())
        if (wizard->isRunning())
            wizard->cancelRunAndClose();
    m_benchmarkPage->cancelRun();
    m_chatPage->stop();
    statusBar()->showMessage(tr("Stopping before quitting…"));
    if (!m_quitTimer) {
        m_quitTimer = new QTimer(this);
        m_quitTimer->setInterval(50);
        connect(m_quitTimer, &QTimer::timeout, this, [this] {
            if (runningJobs().isEmpty()) {
                m_quitTimer->stop();
                close();
            }
        });
    }
    m_quitTimer->start();
}
