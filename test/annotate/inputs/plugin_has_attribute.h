// Plugin input: with the plugin loaded, clang knows the moonpool attributes.
#pragma once

static_assert(__has_cpp_attribute(moonpool::service));
static_assert(__has_cpp_attribute(moonpool::actor));
static_assert(__has_cpp_attribute(moonpool::message));
static_assert(__has_cpp_attribute(moonpool::ordinal));
static_assert(__has_cpp_attribute(moonpool::idempotent));
