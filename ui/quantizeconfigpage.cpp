#include "quantizepages.h"
#include "quantizepagehelpers.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "quantizewizard.h"

using namespace quantui;

// ---------------------------------------------------------------------------- Configuration

QuantConfigPage::QuantConfigPage(QuantizeWizard *wizard) : QWizardPage(wizard), m_wizard(wizard)
{
    setTitle(tr("Configuration"));
    setSubTitle(tr("How the weights are quantized and written."));

    m_awqRadio = new QRadioButton(tr("AWQ (activation-aware scale and clip search)"), this);
    m_awqRadio->setObjectName(QStringLiteral("methodAwqRadio"));
    m_rtnRadio = new QRadioButton(tr("RTN (round to nearest, no search: the baseline)"), this);
    m_rtnRadio->setObjectName(QStringLiteral("methodRtnRadio"));
    auto *methodGroup = new QButtonGroup(this);
    methodGroup->addButton(m_awqRadio);
    methodGroup->addButton(m_rtnRadio);
    m_awqRadio->setChecked(true);

    m_bitsSpin = new QSpinBox(this);
    m_bitsSpin->setObjectName(QStringLiteral("bitsSpin"));
    m_bitsSpin->setRange(2, 8);
    m_bitsSpin->setValue(4);
    m_bitsSpin->setToolTip(tr("Packed checkpoints are 4-bit; other widths need the fake-quant output."));

    m_groupSizeCombo = new QComboBox(this);
    m_groupSizeCombo->setObjectName(QStringLiteral("groupSizeCombo"));
    for (int size : {32, 64, 128})
        m_groupSizeCombo->addItem(QString::number(size), size);
    m_groupSizeCombo->setCurrentIndex(2);

    m_zeroPointCheck = new QCheckBox(tr("Zero point (asymmetric)"), this);
    m_zeroPointCheck->setObjectName(QStringLiteral("zeroPointCheck"));
    m_zeroPointCheck->setChecked(true);

    m_gemmRadio = new QRadioButton(tr("GEMM"), this);
    m_gemmRadio->setObjectName(QStringLiteral("packGemmRadio"));
    m_gemvRadio = new QRadioButton(tr("GEMV"), this);
    m_gemvRadio->setObjectName(QStringLiteral("packGemvRadio"));
    auto *packGroup = new QButtonGroup(this);
    packGroup->addButton(m_gemmRadio);
    packGroup->addButton(m_gemvRadio);
    m_gemmRadio->setChecked(true);
    auto *packHelp = new QLabel(tr("GEMV is faster at batch size 1; GEMM is better for batches and long prompts."),
                                this);
    packHelp->setObjectName(QStringLiteral("packingHelpLabel"));
    packHelp->setWordWrap(true);

    m_clipCheck = new QCheckBox(tr("Search clipping thresholds"), this);
    m_clipCheck->setObjectName(QStringLiteral("clipCheck"));
    m_clipCheck->setChecked(true);

    m_outputKindCombo = new QComboBox(this);
    m_outputKindCombo->setObjectName(QStringLiteral("outputKindCombo"));
    m_outputKindCombo->addItem(tr("Packed AWQ checkpoint (AutoAWQ, transformers, vLLM)"),
                               int(awq::OutputFormat::Packed));
    m_outputKindCombo->addItem(tr("Export-compatible (scaled full-precision weights, for GGUF)"),
                               int(awq::OutputFormat::ExportCompatible));
    m_outputKindCombo->addItem(tr("Fake-quant (dequantized full-precision weights, any bit width)"),
                               int(awq::OutputFormat::FakeQuant));

    // Advanced: the search's knobs, for those who know what they change.
    m_skipModulesEdit = new QLineEdit(this);
    m_skipModulesEdit->setObjectName(QStringLiteral("skipModulesEdit"));
    m_skipModulesEdit->setPlaceholderText(tr("none (e.g. mlp.down_proj)"));
    m_skipModulesEdit->setToolTip(tr("Linears kept in full precision: names or parts of names within a layer "
                                     "(mlp.down_proj, self_attn.k_proj …), separated by commas. Written as "
                                     "modules_to_not_convert. As in AutoAWQ, an excluded linear is still scaled "
                                     "with the rest of its scaling group; it is only left unquantized."));
    m_gridSpin = new QSpinBox(this);
    m_gridSpin->setObjectName(QStringLiteral("gridSpin"));
    m_gridSpin->setRange(2, 100);
    m_gridSpin->setValue(20);
    m_gridSpin->setToolTip(tr("Scale exponents tried per group: 0, 1/n, …, (n-1)/n (AutoAWQ: 20)"));
    m_searchTokensSpin = new QSpinBox(this);
    m_searchTokensSpin->setObjectName(QStringLiteral("searchTokensSpin"));
    m_searchTokensSpin->setRange(0, 10000000);
    m_searchTokensSpin->setSingleStep(512);
    m_searchTokensSpin->setValue(static_cast<int>(awq::QuantOptions{}.maxSearchTokens));
    m_searchTokensSpin->setSpecialValueText(tr("all (as on a GPU; slow on a CPU)"));
    m_searchTokensSpin->setToolTip(tr("Calibration tokens the scale-search loss is measured on. Means, clipping "
                                      "and the next layer's input always use every token."));
    m_duoScalingCheck = new QCheckBox(tr("Scales from activations and weights (AutoAWQ); off: activations only "
                                         "(llm-awq)"),
                                      this);
    m_duoScalingCheck->setObjectName(QStringLiteral("duoScalingCheck"));
    m_duoScalingCheck->setChecked(true);
    // Not remembered: a safety check that is off once should not stay off.
    m_memoryCheck = new QCheckBox(tr("Refuse to start when the estimated peak memory exceeds what is free"), this);
    m_memoryCheck->setObjectName(QStringLiteral("memoryCheck"));
    m_memoryCheck->setChecked(true);
    m_memoryCheck->setToolTip(tr("The estimate is shown on the Model and Calibration pages. Off: try anyway (the "
                                 "system may swap heavily or stop the run)."));
    auto *advanced = new QGroupBox(tr("Advanced"), this);
    advanced->setObjectName(QStringLiteral("advancedBox"));
    auto *advancedForm = new QFormLayout(advanced);
    advancedForm->addRow(tr("Keep in full precision:"), m_skipModulesEdit);
    advancedForm->addRow(tr("Scale grid:"), m_gridSpin);
    advancedForm->addRow(tr("Search tokens:"), m_searchTokensSpin);
    advancedForm->addRow(QString(), m_duoScalingCheck);
    advancedForm->addRow(QString(), m_memoryCheck);

    m_statusLabel = makeStatusLabel(QStringLiteral("configStatusLabel"), this);

    // Presets: the common set-ups in one choice; editing any field afterwards is "Custom".
    m_presetCombo = new QComboBox(this);
    m_presetCombo->setObjectName(QStringLiteral("presetCombo"));
    m_presetCombo->addItem(tr("Custom"));
    m_presetCombo->addItem(tr("AutoAWQ default: AWQ, 4-bit, group 128, GEMM"));
    m_presetCombo->addItem(tr("CPU inference: AWQ, 4-bit, group 128, GEMV"));
    m_presetCombo->addItem(tr("Quality check: AWQ, 3-bit, group 128, fake-quant"));
    m_presetCombo->setToolTip(tr("Fills the fields below; change any of them afterwards"));

    auto *methodBox = new QVBoxLayout;
    methodBox->addWidget(m_awqRadio);
    methodBox->addWidget(m_rtnRadio);
    auto *packRow = new QHBoxLayout;
    packRow->addWidget(m_gemmRadio);
    packRow->addWidget(m_gemvRadio);
    packRow->addStretch(1);
    auto *packBox = new QVBoxLayout;
    packBox->addLayout(packRow);
    packBox->addWidget(packHelp);

    auto *form = new QFormLayout;
    form->addRow(tr("Preset:"), m_presetCombo);
    form->addRow(tr("Method:"), methodBox);
    form->addRow(tr("Bits:"), m_bitsSpin);
    form->addRow(tr("Group size:"), m_groupSizeCombo);
    form->addRow(QString(), m_zeroPointCheck);
    form->addRow(tr("Packing:"), packBox);
    form->addRow(QString(), m_clipCheck);
    form->addRow(tr("Output:"), m_outputKindCombo);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(advanced);
    layout->addWidget(m_statusLabel);
    layout->addStretch(1);

    for (QRadioButton *radio : {m_awqRadio, m_rtnRadio, m_gemmRadio, m_gemvRadio})
        connect(radio, &QRadioButton::toggled, this, &QuantConfigPage::revalidate);
    for (QCheckBox *check : {m_zeroPointCheck, m_clipCheck})
        connect(check, &QCheckBox::toggled, this, &QuantConfigPage::revalidate);
    connect(m_bitsSpin, &QSpinBox::valueChanged, this, &QuantConfigPage::revalidate);
    connect(m_groupSizeCombo, &QComboBox::currentIndexChanged, this, &QuantConfigPage::revalidate);
    connect(m_outputKindCombo, &QComboBox::currentIndexChanged, this, &QuantConfigPage::revalidate);
    connect(m_skipModulesEdit, &QLineEdit::textChanged, this, &QuantConfigPage::revalidate);
    connect(m_gridSpin, &QSpinBox::valueChanged, this, &QuantConfigPage::revalidate);
    connect(m_searchTokensSpin, &QSpinBox::valueChanged, this, &QuantConfigPage::revalidate);
    connect(m_duoScalingCheck, &QCheckBox::toggled, this, &QuantConfigPage::revalidate);
    connect(m_presetCombo, &QComboBox::activated, this, [this](int preset) {
        m_presetBeingChosen = true;
        applyPreset(preset);
        m_presetBeingChosen = false;
    });
}

void QuantConfigPage::applyPreset(int preset)
{
    if (preset <= 0)
        return;
    awq::QuantOptions o;
    apply(o); // the Advanced fields stay as they are
    o.method = awq::QuantMethod::Awq;
    o.quantizer.groupSize = 128;
    o.quantizer.zeroPoint = true;
    o.applyClip = true;
    o.quantizer.bits = preset == 3 ? 3 : 4;
    o.format = preset == 3 ? awq::OutputFormat::FakeQuant : awq::OutputFormat::Packed;
    o.version = preset == 2 ? "gemv" : "gemm";
    m_applyingPreset = true;
    load(o);
    m_applyingPreset = false;
    m_presetCombo->setCurrentIndex(preset);
    revalidate();
}

void QuantConfigPage::initializePage()
{
    revalidate();
}

bool QuantConfigPage::isComplete() const
{
    return m_error.isEmpty();
}

void QuantConfigPage::apply(awq::QuantOptions &options) const
{
    options.method = m_awqRadio->isChecked() ? awq::QuantMethod::Awq : awq::QuantMethod::Rtn;
    options.quantizer.bits = m_bitsSpin->value();
    options.quantizer.groupSize = m_groupSizeCombo->currentData().toInt();
    options.quantizer.zeroPoint = m_zeroPointCheck->isChecked();
    options.version = m_gemvRadio->isChecked() ? "gemv" : "gemm";
    options.format = awq::OutputFormat(m_outputKindCombo->currentData().toInt());
    options.applyClip = m_awqRadio->isChecked() && m_clipCheck->isChecked();
    options.modulesToNotConvert.clear();
    for (const QString &name : m_skipModulesEdit->text().split(QRegularExpression(QStringLiteral("[,\\s]+")),
                                                               Qt::SkipEmptyParts))
        options.modulesToNotConvert.push_back(name.toStdString());
    options.nGrid = m_gridSpin->value();
    options.maxSearchTokens = m_searchTokensSpin->value();
    options.duoScaling = m_duoScalingCheck->isChecked();
    options.checkMemory = m_memoryCheck->isChecked();
}

void QuantConfigPage::load(const awq::QuantOptions &o)
{
    (o.method == awq::QuantMethod::Awq ? m_awqRadio : m_rtnRadio)->setChecked(true);
    m_bitsSpin->setValue(o.quantizer.bits);
    const int group = m_groupSizeCombo->findData(int(o.quantizer.groupSize));
    if (group >= 0)
        m_groupSizeCombo->setCurrentIndex(group);
    m_zeroPointCheck->setChecked(o.quantizer.zeroPoint);
    (o.version == "gemv" ? m_gemvRadio : m_gemmRadio)->setChecked(true);
    m_clipCheck->setChecked(o.applyClip);
    const int format = m_outputKindCombo->findData(int(o.format));
    if (format >= 0)
        m_outputKindCombo->setCurrentIndex(format);
    QStringList skipped;
    for (const std::string &name : o.modulesToNotConvert)
        skipped << QString::fromStdString(name);
    m_skipModulesEdit->setText(skipped.join(QStringLiteral(", ")));
    m_gridSpin->setValue(o.nGrid);
    m_searchTokensSpin->setValue(int(o.maxSearchTokens));
    m_duoScalingCheck->setChecked(o.duoScaling);
}

void QuantConfigPage::revalidate()
{
    if (m_applyingPreset)
        return;
    // A field changed by hand: the fields no longer are a preset's.
    if (m_presetCombo->currentIndex() != 0 && !m_presetBeingChosen) {
        awq::QuantOptions o;
        apply(o);
        const int preset = m_presetCombo->currentIndex();
        const bool matches = o.method == awq::QuantMethod::Awq && o.quantizer.groupSize == 128
                             && o.quantizer.bits == (preset == 3 ? 3 : 4)
                             && o.format == (preset == 3 ? awq::OutputFormat::FakeQuant : awq::OutputFormat::Packed)
                             && (preset == 3 || o.version == (preset == 2 ? "gemv" : "gemm"));
        if (!matches)
            m_presetCombo->setCurrentIndex(0);
    }
    const bool packed = awq::OutputFormat(m_outputKindCombo->currentData().toInt()) == awq::OutputFormat::Packed;
    m_gemmRadio->setEnabled(packed);
    m_gemvRadio->setEnabled(packed);
    m_clipCheck->setEnabled(m_awqRadio->isChecked());
    for (QWidget *w : std::initializer_list<QWidget *>{m_gridSpin, m_searchTokensSpin, m_duoScalingCheck})
        w->setEnabled(m_awqRadio->isChecked());

    m_error.clear();
    const std::optional<awq::ModelInfo> &info = m_wizard->modelInfo();
    if (!info) {
        m_error = tr("Choose a model on the first page.");
    } else {
        awq::QuantOptions options = m_wizard->options();
        if (options.outputFolder.empty())
            options.outputFolder = toPath(m_wizard->modelFolder() + QStringLiteral("-awq")); // chosen on the next page
        try {
            options.validate(info->config);
        } catch (const std::exception &error) {
            m_error = userMessage(error);
        }
    }
    setStatus(m_statusLabel, m_error, !m_error.isEmpty());
    Q_EMIT completeChanged();
}
