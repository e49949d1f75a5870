#pragma once
// JobIndicator: the status bar's running-job indicator. It names what runs (a
// quantization, a benchmark, a chat reply, a perplexity measurement, a model loading),
// shows its progress, and a click (or Enter / Space when it has focus) goes to where the
// job is shown. Several jobs at once: the one started first is shown, "+N more" says how
// many others run, and the tooltip lists them all. Hidden while nothing runs. Jobs are
// reported by MainWindow (mainwindowjobs.cpp) from the pages' signals. GUI thread only.

#include <functional>
#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

class QLabel;
class QProgressBar;

class JobIndicator final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(JobIndicator)

public:
    explicit JobIndicator(QWidget *parent = nullptr);

    // Starts or updates the job `id`: `text` says what runs, `fraction` in [0, 1] (negative:
    // not known yet), `goTo` shows where it runs. A job keeps its place when updated.
    void setJob(const QString &id, const QString &text, double fraction, std::function<void()> goTo);
    void endJob(const QString &id);
    bool hasJob(const QString &id) const;
    // The jobs' texts in the order they started.
    QStringList jobTexts() const;
    // The line shown ("Quantizing demo-llama: layer 2/4 · +1 more"), in full: the label elides
    // it to kMaxTextWidth so that the status bar fits a 1024-pixel window while a job runs.
    QString text() const;
    static constexpr int kMaxTextWidth = 220;
    // Does what a click does: goes to the job shown. False when nothing runs.
    bool activate();

protected:
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    struct Job {
        QString id, text;
        double fraction = -1;
        std::function<void()> goTo;
    };
    void refresh();

    std::vector<Job> m_jobs;
    QString m_line;
    QLabel *m_label = nullptr;
    QProgressBar *m_bar = nullptr;
};
