// Forwards to moonpool/check.h, where MOONPOOL_CHECK now lives (internal). Kept so code
// written against the old internal path still builds; include moonpool/check.h instead.
#pragma once

#include "moonpool/check.h"
