#include "librarypage.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include "modelpage.h"

LibraryPage::LibraryPage(QWidget *parent) : QWidget(parent)
{
    auto *heading = new QLabel(tr("<b>Recent models</b>"));
    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("libraryList"));
    m_list->setWordWrap(true);
    m_list->setAlternatingRowColors(true);
    m_list->setUniformItemSizes(false);
    auto *openButton = new QPushButton(tr("Open Folder…"));
    openButton->setObjectName(QStringLiteral("libraryOpenButton"));
    m_removeButton = new QPushButton(tr("Remove"));
    m_removeButton->setObjectName(QStringLiteral("libraryRemoveButton"));
    m_removeButton->setToolTip(tr("Remove from the list (the folder itself is not touched)"));
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(openButton);
    listButtons->addWidget(m_removeButton);
    listButtons->addStretch(1);
    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(12, 10, 6, 10);
    leftLayout->addWidget(heading);
    leftLayout->addWidget(m_list, 1);
    leftLayout->addLayout(listButtons);
    left->setMinimumWidth(220);

    m_quantizeButton = new QPushButton(tr("Quantize…"));
    m_quantizeButton->setObjectName(QStringLiteral("libraryQuantizeButton"));
    m_chatButton = new QPushButton(tr("Chat"));
    m_chatButton->setObjectName(QStringLiteral("libraryChatButton"));
    m_benchmarkButton = new QPushButton(tr("Benchmark"));
    m_benchmarkButton->setObjectName(QStringLiteral("libraryBenchmarkButton"));
    auto *actions = new QHBoxLayout;
    actions->setContentsMargins(20, 10, 20, 0);
    actions->addWidget(m_quantizeButton);
    actions->addWidget(m_chatButton);
    actions->addWidget(m_benchmarkButton);
    actions->addStretch(1);
    m_modelPage = new ModelPage;
    auto *right = new QWidget;
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addLayout(actions);
    rightLayout->addWidget(m_modelPage, 1);

    auto *splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({270, 700});
    splitter->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_list, &QListWidget::itemActivated, this,
            [this](QListWidgetItem *item) { Q_EMIT openRequested(item->data(Qt::UserRole).toString()); });
    connect(m_list, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        const QString folder = item->data(Qt::UserRole).toString();
        if (folder != m_current)
            Q_EMIT openRequested(folder);
    });
    connect(m_list, &QListWidget::currentRowChanged, this,
            [this](int row) { m_removeButton->setEnabled(row >= 0); });
    connect(openButton, &QPushButton::clicked, this, &LibraryPage::browseRequested);
    connect(m_modelPage, &ModelPage::openRequested, this, &LibraryPage::browseRequested);
    connect(m_removeButton, &QPushButton::clicked, this, [this] {
        const QString folder = selectedFolder();
        if (!folder.isEmpty())
            Q_EMIT removeRequested(folder);
    });
    connect(m_quantizeButton, &QPushButton::clicked, this, [this] { Q_EMIT quantizeRequested(m_current); });
    connect(m_chatButton, &QPushButton::clicked, this, [this] { Q_EMIT chatRequested(m_current); });
    connect(m_benchmarkButton, &QPushButton::clicked, this, [this] { Q_EMIT benchmarkRequested(m_current); });
    setCurrent(QString(), false);
    m_removeButton->setEnabled(false);
}

QString LibraryPage::selectedFolder() const
{
    const QListWidgetItem *item = m_list->currentItem();
    return item ? item->data(Qt::UserRole).toString() : QString();
}

void LibraryPage::setModels(const QStringList &folders, const QVariantMap &facts)
{
    const QString selected = selectedFolder();
    m_list->clear();
    for (const QString &folder : folders) {
        const QString name = QFileInfo(folder).fileName();
        QString line = facts.value(folder).toString();
        if (!QFileInfo(folder).isDir())
            line = tr("missing: the folder is no longer there");
        auto *item = new QListWidgetItem(line.isEmpty() ? name : name + QLatin1Char('\n') + line, m_list);
        item->setData(Qt::UserRole, folder);
        item->setToolTip(QDir::toNativeSeparators(folder));
        if (folder == m_current) {
            QFont bold = item->font();
            bold.setBold(true);
            item->setFont(bold);
        }
        if (folder == selected || folder == m_current)
            m_list->setCurrentItem(item);
    }
    m_removeButton->setEnabled(m_list->currentItem() != nullptr);
}

void LibraryPage::setCurrent(const QString &folder, bool runnable)
{
    m_current = folder;
    m_quantizeButton->setEnabled(runnable);
    m_chatButton->setEnabled(runnable);
    m_benchmarkButton->setEnabled(runnable);
    for (int i = 0; i < m_list->count(); ++i) {
        QListWidgetItem *item = m_list->item(i);
        QFont font = item->font();
        font.setBold(item->data(Qt::UserRole).toString() == folder);
        item->setFont(font);
    }
}
