#pragma once
// The pages of QuantizeWizard. Each validates its own input and shows problems with
// the engine's message (which names the file and the problem); isComplete() gates Next.

#include <optional>

#include <QElapsedTimer>
#include <QString>
#include <QWizardPage>

#include "metatypes.h"
#include "awq/quant/quant_options.h"

class QuantizeWizard;
struct QuantizeSummary;
class QButtonGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class LayerLossChart;
class ResourceChart;
class QTimer;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class ModelController;

class QuantModelPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantModelPage)

public:
    QuantModelPage(const QString &folder, QWidget *parent = nullptr);
    bool isComplete() const override;
    QString folder() const;
    const std::optional<awq::ModelInfo> &info() const { return m_info; }
    // Where capture and the searches run: "cpu" or "cuda:N" (awq::QuantOptions::device).
    QString device() const;

private:
    void validateFolder();
    void showInspection(const awq::ModelInfo &info);
    void browse();

    void showMemoryEstimate(const awq::ModelInfo &info);

    ModelController *m_inspector = nullptr; // headers are read on its worker thread
    QLineEdit *m_pathEdit = nullptr;
    QLabel *m_statusLabel = nullptr;
    QLabel *m_memoryLabel = nullptr; // estimated memory and the device, once inspected
    QComboBox *m_deviceBox = nullptr; // the CPU and each GPU this process can use
    std::optional<awq::ModelInfo> m_info;
    bool m_usable = false;
};

class QuantCalibrationPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantCalibrationPage)

public:
    explicit QuantCalibrationPage(QuantizeWizard *wizard);
    bool isComplete() const override;
    awq::CalibrationOptions options() const;
    // Shows `options`' choices (remembered settings).
    void load(const awq::CalibrationOptions &options);

private:
    void initializePage() override;
    void updateSourceWidgets();
    void updateJsonFields();
    void browse();
    void check();
    void showStatus(const QString &text, bool error);
    // Why the chosen file or folder cannot be used (missing, wrong kind, unreadable); empty when it can.
    QString sourceProblem() const;

    QuantizeWizard *m_wizard;
    QRadioButton *m_builtinRadio = nullptr;
    QRadioButton *m_textRadio = nullptr;
    QRadioButton *m_jsonlRadio = nullptr;
    QRadioButton *m_folderRadio = nullptr;
    QLineEdit *m_pathEdit = nullptr;
    QPushButton *m_browseButton = nullptr;
    QComboBox *m_jsonFieldCombo = nullptr; // editable; filled with the keys the file's first lines have
    QSpinBox *m_nSamplesSpin = nullptr;
    QSpinBox *m_seqLenSpin = nullptr;
    QPushButton *m_checkButton = nullptr;
    QLabel *m_statusLabel = nullptr;
    QPlainTextEdit *m_preview = nullptr; // the first records, after a check
    bool m_awaitingCheck = false;        // a check was asked for this source and not answered yet
    QString m_fieldsFile;                // the JSONL file whose fields the field list shows
};

class QuantConfigPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantConfigPage)

public:
    explicit QuantConfigPage(QuantizeWizard *wizard);
    void initializePage() override;
    bool isComplete() const override;
    // Writes this page's choices into `options`.
    void apply(awq::QuantOptions &options) const;
    // Shows `options`' choices (remembered settings).
    void load(const awq::QuantOptions &options);

    // 1: AutoAWQ default (w4 g128 GEMM), 2: CPU (w4 g128 GEMV), 3: quality check (w3 g128
    // fake-quant); 0 (Custom) changes nothing.
    void applyPreset(int preset);

private:
    void revalidate();

    QuantizeWizard *m_wizard;
    QComboBox *m_presetCombo = nullptr;
    bool m_applyingPreset = false;
    bool m_presetBeingChosen = false;
    QRadioButton *m_awqRadio = nullptr;
    QRadioButton *m_rtnRadio = nullptr;
    QSpinBox *m_bitsSpin = nullptr;
    QComboBox *m_groupSizeCombo = nullptr;
    QCheckBox *m_zeroPointCheck = nullptr;
    QRadioButton *m_gemmRadio = nullptr;
    QRadioButton *m_gemvRadio = nullptr;
    QCheckBox *m_clipCheck = nullptr;
    QComboBox *m_outputKindCombo = nullptr;
    // Advanced
    QLineEdit *m_skipModulesEdit = nullptr;
    QSpinBox *m_gridSpin = nullptr;
    QSpinBox *m_searchTokensSpin = nullptr;
    QCheckBox *m_duoScalingCheck = nullptr;
    QCheckBox *m_memoryCheck = nullptr;
    QLabel *m_statusLabel = nullptr;
    QString m_error;
};

class QuantOutputPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantOutputPage)

public:
    explicit QuantOutputPage(QuantizeWizard *wizard);
    void initializePage() override;
    bool isComplete() const override;
    QString folder() const;
    bool overwrite() const;

private:
    void revalidate();
    void browse();

    QuantizeWizard *m_wizard;
    QLineEdit *m_pathEdit = nullptr;
    QCheckBox *m_overwriteCheck = nullptr;
    QLabel *m_statusLabel = nullptr;
    bool m_ok = false;
};

class QuantRunPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantRunPage)

public:
    explicit QuantRunPage(QuantizeWizard *wizard);
    void initializePage() override;
    bool isComplete() const override { return m_succeeded; }
    bool succeeded() const { return m_succeeded; }
    // Asks for confirmation (unless the wizard turned it off) and cancels the run.
    // Returns false when the user chose to keep it running.
    bool requestCancel();

Q_SIGNALS:
    // The buttons shown after a successful run, with the output folder.
    void chatRequested(const QString &folder);
    void benchmarkRequested(const QString &folder);

private:
    void start();
    void setRunning(bool running);
    void handleProgress(const QString &phase, qint64 layer, qint64 layers, const QString &detail, double fraction,
                        double etaSeconds, quint64 rssBytes, quint64 peakRssBytes);
    void handleFinished(const QuantizeSummary &summary);
    void handleFailed(const QString &message);
    void handleCancelled();

    QuantizeWizard *m_wizard;
    QProgressBar *m_progress = nullptr;
    QLabel *m_phaseLabel = nullptr;
    QLabel *m_layerLabel = nullptr;
    QLabel *m_detailLabel = nullptr;
    QLabel *m_etaLabel = nullptr;
    QLabel *m_memoryLabel = nullptr;
    QPlainTextEdit *m_log = nullptr;
    LayerLossChart *m_lossChart = nullptr;
    ResourceChart *m_memoryChart = nullptr;
    QTimer *m_memoryTimer = nullptr; // samples memory every 500 ms while running
    QElapsedTimer m_runClock;
    QPushButton *m_startButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QLabel *m_resultLabel = nullptr;
    QPushButton *m_chatButton = nullptr;
    QPushButton *m_benchmarkButton = nullptr;
    QPushButton *m_perplexityButton = nullptr; // original vs quantized on the held-out text
    QLabel *m_perplexityLabel = nullptr;
    QString m_outputFolder;
    bool m_succeeded = false;
    bool m_cancelRequested = false;
    quint64 m_inputWeightBytes = 0;
};
