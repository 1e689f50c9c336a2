// Plugin input: the unscoped spelling (registered only for the clang-19 workaround, P2)
// and a foreign scope are not moonpool attributes and are ignored with a warning.
#pragma once

struct [[service]] Bare {};

struct [[other::message]] Foreign {};
