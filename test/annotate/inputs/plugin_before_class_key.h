// Plugin input: the attribute before the class-key is misplaced (toolchain.md P3).
#pragma once

[[moonpool::service]] struct Misplaced {};
