// The plain-struct intermediate representation of one annotated header (annotate/ layer).
//
// The AST mapper (ast_mapper.h) fills it with facts, never with judgements: a method that
// does not return Task<T> is recorded as such, a type that cannot be serialized is recorded
// as TypeKind::kUnsupported with its spelling. The rules (rules/) decide what is an error;
// the emitters (capnp_emitter.h) only ever see an IR that passed every rule.
//
// The one clang type kept here is SourceLocation, a 32-bit value, so the rules can report
// through clang's DiagnosticsEngine as `file:line:col: error: ...`.
#pragma once

#include <clang/Basic/SourceLocation.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moonpool::annotate {

enum class TypeKind {
  kVoid,  // only as a method result
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat32,
  kFloat64,
  kText,      // std::string
  kData,      // std::vector of uint8_t, unsigned char or std::byte
  kList,      // std::vector<T>: args = {T}
  kOptional,  // std::optional<T>: args = {T}
  kMap,       // std::map / std::unordered_map<K, V>: args = {K, V}
  kEnum,      // a C++ enum: qualifiedName names an EnumDef of the schema
  kMessage,   // a [[moonpool::message]] struct: qualifiedName names a Record
  kUnsupported,
};

struct TypeRef {
  TypeKind kind = TypeKind::kUnsupported;
  // For kEnum and kMessage: the fully qualified C++ name ("demo::Put"), and the type's name
  // in the schema (assignSchemaNames, capnp_names.h).
  std::string qualifiedName;
  std::string schemaName;
  // The type as the user wrote it, for diagnostics ("std::set<int>").
  std::string spelling;
  // For kUnsupported: why, phrased to follow "type '<spelling>' ..." in a message.
  std::string unsupportedReason;
  std::vector<TypeRef> args;
};

// One [[moonpool::ordinal(N)]] (or annotate("moonpool::ordinal", N)) on a member. A member
// may carry several (an error the ordinal-pins rule reports).
struct OrdinalPin {
  std::optional<int64_t> value;  // nullopt: the argument is not an integer constant
  clang::SourceLocation loc;
};

enum class RecordKind { kService, kActor, kMessage };

// One [[moonpool::idempotent]] (or annotate("moonpool::idempotent")) as written. The attribute
// rejects arguments while parsing; the annotate spelling lets them through, so they are kept
// for the idempotent-methods rule.
struct IdempotentMark {
  clang::SourceLocation loc;
  bool hasArguments = false;
};

// A message field or a method parameter.
struct Field {
  std::string name;  // as in C++; empty for an unnamed parameter
  TypeRef type;
  clang::SourceLocation loc;
  // Fields only (parameters are positional): the pins as written, and the ordinal the
  // evolution stage assigns (ordinals.h); -1 until then.
  std::vector<OrdinalPin> pins;
  int ordinal = -1;
  // Message fields only: what the generated conversions cannot assign (rule cpp-glue).
  bool isConst = false;
  bool isBitField = false;
  // Parameters only: the default argument as written ("3", "Color::kRed"), repeated on the
  // generated clients' overrides (C++ takes defaults from the static type); empty if none.
  std::string defaultArgument;
};

struct Method {
  std::string name;
  clang::SourceLocation loc;
  // True when the return type is moonpool::Task<T>; `result` is then T (kVoid for void).
  bool returnsTask = false;
  std::string returnSpelling;
  TypeRef result;
  std::vector<Field> params;
  bool isVirtual = false;
  bool isPure = false;
  bool isStatic = false;
  bool isTemplate = false;  // a member function template
  bool isPublic = false;
  // Qualifiers the generated client repeats on its overrides.
  bool isConst = false;
  bool isNoexcept = false;
  bool isRefQualified = false;  // `&` or `&&` (rule cpp-glue)
  std::vector<OrdinalPin> pins;
  int ordinal = -1;  // assigned by the evolution stage (ordinals.h)
  // [[moonpool::idempotent]] as written on the method (several: the same as one). Not part
  // of the wire: the generated XRemote resends an idempotent call after a reconnect.
  std::vector<IdempotentMark> idempotentMarks;
  bool isIdempotent() const { return !idempotentMarks.empty(); }
  // Actors: [[moonpool::reentrant]] on the method (its calls interleave; actor_emitter.h).
  bool isReentrant = false;
};

// A member of an annotated class that carries an ordinal pin but is not part of the schema
// (a private actor method): the pin would do nothing, so the ordinal-pins rule rejects it.
struct StrayPin {
  std::string memberName;
  clang::SourceLocation loc;
};

// A [[moonpool::idempotent]] anywhere but on a method of a service's schema, in the header
// itself: on a class, field, variable, free function, parameter or enumerator (kNotAMethod),
// on a method of any other class (kOtherClassMethod), or on a service's constructor,
// destructor or assignment operator (kSpecialMember). The idempotent-methods rule reports it.
struct StrayIdempotent {
  enum class Place : uint8_t { kNotAMethod, kOtherClassMethod, kSpecialMember };
  Place place = Place::kNotAMethod;
  std::string memberName;  // methods: as in C++ ("deposit", "~Jobs")
  // Methods: the class declaring it, and its moonpool kind if it has one.
  std::string ownerName;
  std::optional<RecordKind> ownerKind;
  IdempotentMark mark;
};

// A retired ordinal (from the lock file, lock_file.h): the schema keeps a placeholder member
// there so Cap'n Proto's ordinals stay dense and the ordinal is never reused.
struct RetiredMember {
  int ordinal = 0;
  std::string capnpName;        // the retired member's schema name ("value")
  std::string placeholderType;  // fields: a layout-equivalent schema type; empty otherwise
};

struct Record {
  RecordKind kind = RecordKind::kMessage;
  std::string name;           // unqualified C++ name
  std::string qualifiedName;  // "demo::KvStore"
  std::string enclosingNamespace;  // "demo"; empty for the global namespace
  std::string schemaName;  // the Cap'n Proto type name (assignSchemaNames, capnp_names.h)
  clang::SourceLocation loc;
  bool isTemplate = false;  // a class template or a partial specialization
  bool hasVirtualDestructor = false;
  bool hasBases = false;
  clang::SourceLocation firstBaseLoc;
  std::vector<Method> methods;  // declaration order; constructors and destructors excluded
  std::vector<Field> fields;    // non-static data members, declaration order
  // Non-public non-static data members of a message (first one), for the rules.
  clang::SourceLocation firstNonPublicFieldLoc;
  std::string firstNonPublicFieldName;
  // A user-declared constructor of a message (the first one): not an aggregate any more.
  std::optional<clang::SourceLocation> firstConstructorLoc;
  std::vector<StrayPin> strayPins;
  // Actors: [[moonpool::reentrant]] on the class (every method interleaves).
  bool isReentrant = false;
  // Actors: the public lifecycle hooks onActivate / onDeactivate, which the runtime calls
  // and the schema leaves out (actor_emitter.h).
  std::vector<std::string> lifecycleHooks;
  std::vector<RetiredMember> retired;  // filled by the evolution stage, by ordinal
};

struct Enumerator {
  std::string name;  // as in C++
  clang::SourceLocation loc;
  std::vector<OrdinalPin> pins;
  int ordinal = -1;  // assigned by the evolution stage (ordinals.h)
};

struct EnumDef {
  std::string name;
  std::string qualifiedName;
  std::string schemaName;  // as Record::schemaName
  clang::SourceLocation loc;
  std::vector<Enumerator> enumerators;  // declaration order
  std::vector<RetiredMember> retired;   // filled by the evolution stage, by ordinal
};

// Everything annotated in one header, in declaration order.
struct Schema {
  std::string headerName;  // file name of the header, without directories
  std::vector<Record> records;
  std::vector<EnumDef> enums;  // enums used by any field, parameter or result
  std::vector<StrayIdempotent> strayIdempotent;  // source order
};

// The capnp spelling of a scalar kind ("Int32", "Text"), or nullptr for composite kinds.
const char* scalarCapnpName(TypeKind kind);

}  // namespace moonpool::annotate
