#pragma once
// BenchmarkConfigPanel: the left side of the benchmark dashboard, where a run is set up —
// the model (a folder, or a synthetic shape with random weights), the builds to compare
// (FP32, GEMM, GEMV), batch sizes, prefill lengths, decode length, warm-up and timed runs,
// threads, the device, and the optional perplexity measurement. It checks the set-up as it
// is edited and shows the memory each build of the plan would need (refusing a plan that
// would not fit in the memory available now).

#include <optional>

#include <QVector>
#include <QWidget>

#include "benchmarkworker.h"

QT_BEGIN_NAMESPACE
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;
QT_END_NAMESPACE

class BenchmarkConfigPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkConfigPanel)

public:
    // Windows of the perplexity measurement: min(this, the model's context) tokens each,
    // at most kPerplexityWindows of them.
    static constexpr qint64 kPerplexitySeqLen = 128;
    static constexpr qint64 kPerplexityWindows = 16;

    explicit BenchmarkConfigPanel(QWidget *parent = nullptr);

    // Selects the model-folder source with this folder.
    void setModelFolder(const QString &folder);
    bool isValid() const { return m_request.has_value(); }
    // The run the panel describes; only while isValid().
    BenchmarkRequest request() const;

Q_SIGNALS:
    void validityChanged(bool valid);

private:
    QWidget *buildModelBox();
    QWidget *buildBuildsBox();
    QWidget *buildWorkloadBox();
    void handleBrowse();
    void revalidate();
    // The plan as edited, or nothing with *error saying what is wrong.
    std::optional<BenchmarkRequest> readRequest(QString *error) const;
    // Checks the plan against the model and the memory available; fills the estimate.
    bool checkPlan(const BenchmarkRequest &request, QString *error);
    void updatePerplexityAvailability();
    void setStatus(const QString &text, bool error);

    QRadioButton *m_folderRadio = nullptr;
    QRadioButton *m_syntheticRadio = nullptr;
    QLineEdit *m_folderEdit = nullptr;
    QPushButton *m_browseButton = nullptr;
    QComboBox *m_shapeCombo = nullptr;
    QCheckBox *m_fp32Check = nullptr;
    QCheckBox *m_gemmCheck = nullptr;
    QCheckBox *m_gemvCheck = nullptr;
    QComboBox *m_groupSizeCombo = nullptr;
    QLineEdit *m_batchEdit = nullptr;
    QLineEdit *m_prefillEdit = nullptr;
    QSpinBox *m_decodeSpin = nullptr;
    QSpinBox *m_warmupSpin = nullptr;
    QSpinBox *m_repeatsSpin = nullptr;
    QSpinBox *m_threadsSpin = nullptr;
    QComboBox *m_deviceCombo = nullptr;
    QCheckBox *m_perplexityCheck = nullptr;
    QLabel *m_estimateLabel = nullptr;
    QLabel *m_statusLabel = nullptr;
    QString m_perplexityText; // the bundled held-out text, empty when missing
    std::optional<BenchmarkRequest> m_request;
    QString m_fitNote; // what setModelFolder() changed to fit the model's context
};
