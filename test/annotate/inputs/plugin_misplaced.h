// Plugin input: moonpool attributes on the wrong declarations or with arguments.
#pragma once

[[moonpool::service]] int notAClass;

union [[moonpool::message]] NotAStruct {
  int a;
};

struct [[moonpool::actor("name")]] WithArguments {};
