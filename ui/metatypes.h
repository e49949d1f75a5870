#pragma once
// Engine value types carried by queued signals between worker threads and the GUI.
// Include this (rather than the engine header directly) in every UI header that
// names one of these types, so the declaration precedes any use by moc.

#include <QMetaType>

#include "awq/model/model_info.h"

Q_DECLARE_METATYPE(awq::ModelInfo)
