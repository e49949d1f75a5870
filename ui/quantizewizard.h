#pragma once
// QuantizeWizard: the quantization wizard (Model → Calibration → Configuration → Output
// → Run). Pages live in quantizepages.h; the run itself happens on QuantizeController's
// worker thread, the GUI thread only shows its progress. GUI thread only.

#include <optional>

#include <QString>
#include <QWizard>

#include "metatypes.h"
#include "awq/quant/quant_options.h"
#include "quantizeworker.h" // QuantizeSummary, carried by quantized()

class QuantizeController;
class QuantModelPage;
class QuantCalibrationPage;
class QuantConfigPage;
class QuantOutputPage;
class QuantRunPage;

class QuantizeWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantizeWizard)

public:
    enum PageId { ModelPageId, CalibrationPageId, ConfigPageId, OutputPageId, RunPageId };

    // `modelFolder` prefills the Model page (may be empty).
    explicit QuantizeWizard(const QString &modelFolder = QString(), QWidget *parent = nullptr);
    ~QuantizeWizard() override;

    // Ask before cancelling a run (default true); tests turn it off.
    void setConfirmCancel(bool confirm) { m_confirmCancel = confirm; }
    bool confirmCancel() const { return m_confirmCancel; }

    QuantizeController *controller() const { return m_controller; }

    // What the pages have chosen so far.
    QString modelFolder() const;
    const std::optional<awq::ModelInfo> &modelInfo() const;
    awq::CalibrationOptions calibrationOptions() const;
    // Every page's choices; seqLen 0 is resolved as the engine does (512, capped by the
    // model's context).
    awq::QuantOptions options() const;
    bool isRunning() const;
    // Cancels the run in flight without asking (the caller has asked) and closes the
    // wizard once the engine has stopped and removed its temporary folder.
    void cancelRunAndClose();

    // The calibration and configuration choices are remembered (QSettings group
    // "quantizeWizard") when a run starts, and shown again by the next wizard.
    void saveSettings() const;
    void restoreSettings();

public Q_SLOTS:
    void reject() override;

protected:
    void keyPressEvent(QKeyEvent *event) override;

Q_SIGNALS:
    // A run finished and wrote `summary.outputFolder`.
    void quantized(const QuantizeSummary &summary);
    // The run page's buttons after a successful run (the wizard then closes).
    void chatRequested(const QString &folder);
    void benchmarkRequested(const QString &folder);

private:
    QuantizeController *m_controller = nullptr;
    QuantModelPage *m_modelPage = nullptr;
    QuantCalibrationPage *m_calibrationPage = nullptr;
    QuantConfigPage *m_configPage = nullptr;
    QuantOutputPage *m_outputPage = nullptr;
    QuantRunPage *m_runPage = nullptr;
    bool m_confirmCancel = true;
    bool m_closeWhenStopped = false;
};
