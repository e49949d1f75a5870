#pragma once
// ModelFactsWidget: the facts of one inspected model folder (awq::ModelInfo) as
// selectable label/value rows in groups, with the problems that stop it from
// loading listed in red. Display only; GUI thread.

#include <QList>
#include <QPair>
#include <QString>
#include <QWidget>

#include "metatypes.h"

class QFormLayout;
class QLabel;
class QVBoxLayout;

class ModelFactsWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelFactsWidget)

public:
    explicit ModelFactsWidget(QWidget *parent = nullptr);

    void setModelInfo(const awq::ModelInfo &info);
    void clear();

    // Every row as "Label: value" lines, then the problems: for copying and tests.
    QString plainText() const;

private:
    QLabel *addRow(QFormLayout *form, const QString &label, const QString &value);
    QFormLayout *addGroup(QLayout *parentLayout, const QString &title);
    void addProblems(const awq::ModelInfo &info);

    QVBoxLayout *m_layout = nullptr;
    QWidget *m_content = nullptr; // rebuilt by setModelInfo()
    QList<QPair<QString, QString>> m_rows;
    QStringList m_problems;
};
