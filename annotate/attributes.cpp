// Registration of the moonpool attributes with clang (annotate/ layer).
//
// Built twice from this one file: into moonpool-annotate, and into the MODULE library
// libmoonpool_attrs.so loaded with `clang++-19 -fplugin=...`. Registration is through
// clang's own static registry (`ParsedAttrInfoRegistry::Add`): that is the only mechanism
// clang offers a plugin, so the usual "register explicitly" rule (STYLE.md) yields here.
//
// clang-19 workaround (toolchain.md P2): a plugin attribute with only a scoped spelling
// (`moonpool::service`) has its argument list skipped silently and is invisible to
// `__has_cpp_attribute`. Each attribute therefore also gets the unscoped spelling
// (`service`), and handleDeclAttribute rejects a missing or foreign scope. With the
// unscoped spelling present, clang parses arguments and checks their count itself: none for
// the class attributes (NumArgs = OptArgs = 0, "'actor' attribute takes no arguments"),
// exactly one for ordinal (NumArgs = 1), which then arrives as an expression. Without the
// alias, `[[moonpool::ordinal(3)]]` would lose its argument and be rejected as arg-less.
// idempotent accepts arguments while parsing (OptArgs) only to reject them with a hint.
#include "attributes.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/Attr.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/Expr.h>
#include <clang/Basic/DiagnosticSema.h>
#include <clang/Basic/ParsedAttrInfo.h>
#include <clang/Sema/ParsedAttr.h>
#include <clang/Sema/Sema.h>

#include <optional>
#include <string>

namespace moonpool::annotate {
namespace {

using clang::ParsedAttr;
using clang::ParsedAttrInfo;

constexpr char kScope[] = "moonpool";

// True for a class or struct (not a union, not an enum).
bool isClassOrStruct(const clang::Decl* decl) {
  const auto* record = llvm::dyn_cast<clang::CXXRecordDecl>(decl);
  return record != nullptr && (record->isClass() || record->isStruct());
}

// `[[service]]` and `[[other::service]]` reach our handlers through the unscoped alias (P2);
// they are not ours, so they are ignored like any unknown attribute. False for those.
bool hasOurScope(clang::Sema& sema, const ParsedAttr& attr) {
  const clang::IdentifierInfo* scope = attr.getScopeName();
  if (scope != nullptr && scope->getName() == kScope) return true;
  sema.Diag(attr.getLoc(), clang::diag::warn_unknown_attribute_ignored) << attr << attr.getRange();
  return false;
}

void reportError(clang::Sema& sema, clang::SourceLocation loc, llvm::StringRef message) {
  unsigned id = sema.getDiagnostics().getCustomDiagID(clang::DiagnosticsEngine::Error, "%0");
  sema.Diag(loc, id) << message;
}

bool hasAnnotation(const clang::Decl* decl, llvm::StringRef annotation) {
  for (const auto* attr : decl->specific_attrs<clang::AnnotateAttr>()) {
    if (attr->getAnnotation() == annotation) return true;
  }
  return false;
}

// One attribute: `[[moonpool::<name>]]` on a class or struct, lowered to AnnotateAttr.
// `Annotation` is the full scoped name ("moonpool::service"); the unscoped alias skips the
// scope and "::" (sizeof(kScope) counts the terminating zero, so +1 skips both colons).
template <const char* Annotation>
class MoonpoolAttrInfo final : public ParsedAttrInfo {
 public:
  MoonpoolAttrInfo() {
    static constexpr Spelling kSpellings[] = {
        {ParsedAttr::AS_CXX11, Annotation},
        {ParsedAttr::AS_CXX11, Annotation + sizeof(kScope) + 1},
    };
    Spellings = kSpellings;
  }

  // implements ParsedAttrInfo
  bool diagAppertainsToDecl(clang::Sema& sema, const ParsedAttr& attr,
                            const clang::Decl* decl) const override {
    if (isClassOrStruct(decl)) return true;
    unsigned id = sema.getDiagnostics().getCustomDiagID(
        clang::DiagnosticsEngine::Error,
        "'%0' only applies to classes and structs; write it after the class-key, as in "
        "'struct [[%0]] Name'");
    sema.Diag(attr.getLoc(), id) << Annotation;
    return false;
  }

  AttrHandling handleDeclAttribute(clang::Sema& sema, clang::Decl* decl,
                                   const ParsedAttr& attr) const override {
    if (!hasOurScope(sema, attr)) return AttributeNotApplied;
    if (attr.getNumArgs() != 0) {
      unsigned id = sema.getDiagnostics().getCustomDiagID(
          clang::DiagnosticsEngine::Error, "'%0' takes no arguments; remove them");
      sema.Diag(attr.getLoc(), id) << Annotation;
      return AttributeNotApplied;
    }
    decl->addAttr(clang::AnnotateAttr::Create(sema.Context, Annotation, nullptr, 0,
                                              attr.getRange()));
    return AttributeApplied;
  }
};

// `[[moonpool::ordinal(N)]]` on a message field, a service or actor method, or an
// enumerator: pins that member's Cap'n Proto ordinal (README.md "Evolution"). Lowered to
// AnnotateAttr("moonpool::ordinal", N). Duplicate ordinals across members, and pins the
// tool cannot honour, are the tool's ordinal-pins rule: they need the whole class.
class OrdinalAttrInfo final : public ParsedAttrInfo {
 public:
  OrdinalAttrInfo() {
    NumArgs = 1;
    static constexpr Spelling kSpellings[] = {
        {ParsedAttr::AS_CXX11, kOrdinalAnnotation},
        {ParsedAttr::AS_CXX11, kOrdinalAnnotation + sizeof(kScope) + 1},
    };
    Spellings = kSpellings;
  }

  // implements ParsedAttrInfo
  bool diagAppertainsToDecl(clang::Sema& sema, const ParsedAttr& attr,
                            const clang::Decl* decl) const override {
    if (llvm::isa<clang::FieldDecl, clang::CXXMethodDecl, clang::EnumConstantDecl>(decl)) {
      return true;
    }
    reportError(sema, attr.getLoc(),
                "'moonpool::ordinal' only applies to message fields, service and actor "
                "methods, and enumerators");
    return false;
  }

  AttrHandling handleDeclAttribute(clang::Sema& sema, clang::Decl* decl,
                                   const ParsedAttr& attr) const override {
    if (!hasOurScope(sema, attr)) return AttributeNotApplied;
    std::string problem = ownerProblem(decl);
    if (problem.empty() && hasAnnotation(decl, kOrdinalAnnotation)) {
      problem = "'moonpool::ordinal' given twice on '" + nameOf(decl) + "'; keep one";
    }
    std::optional<llvm::APSInt> value;
    if (problem.empty()) {
      clang::Expr* arg = attr.isArgExpr(0) ? attr.getArgAsExpr(0) : nullptr;
      if (arg != nullptr && !arg->isValueDependent()) {
        value = arg->getIntegerConstantExpr(sema.Context);
      }
      if (!value.has_value()) {
        problem = "'moonpool::ordinal' takes an integer constant, as in "
                  "'[[moonpool::ordinal(3)]]'";
      } else if (value->isNegative() || value->getActiveBits() > 32 ||
                 value->getExtValue() > kOrdinalMax) {
        problem = "ordinal " + llvm::toString(*value, 10) +
                  " is out of range; Cap'n Proto ordinals go from 0 to " +
                  std::to_string(kOrdinalMax);
      }
    }
    if (!problem.empty()) {
      reportError(sema, attr.getLoc(), problem);
      return AttributeNotApplied;
    }
    clang::Expr* literal = clang::IntegerLiteral::Create(
        sema.Context, llvm::APInt(32, static_cast<uint64_t>(value->getExtValue())),
        sema.Context.IntTy, attr.getLoc());
    decl->addAttr(clang::AnnotateAttr::Create(sema.Context, kOrdinalAnnotation, &literal, 1,
                                              attr.getRange()));
    return AttributeApplied;
  }

 private:
  static std::string nameOf(const clang::Decl* decl) {
    const auto* named = llvm::dyn_cast<clang::NamedDecl>(decl);
    return named != nullptr ? named->getNameAsString() : std::string("?");
  }

  // Empty when the member belongs to a class whose annotation gives it an ordinal.
  // Enumerators are numbered wherever their enum is used, so any enum is fine.
  static std::string ownerProblem(const clang::Decl* decl) {
    if (llvm::isa<clang::EnumConstantDecl>(decl)) return "";
    const auto* owner = llvm::dyn_cast<clang::CXXRecordDecl>(decl->getDeclContext());
    bool isField = llvm::isa<clang::FieldDecl>(decl);
    if (owner != nullptr && isField && hasAnnotation(owner, kMessageAnnotation)) return "";
    if (owner != nullptr && !isField &&
        (hasAnnotation(owner, kServiceAnnotation) || hasAnnotation(owner, kActorAnnotation))) {
      return "";
    }
    return std::string("'moonpool::ordinal' on ") + (isField ? "field '" : "method '") +
           nameOf(decl) + "' does nothing: only " +
           (isField ? "fields of a [[moonpool::message]]"
                    : "methods of a [[moonpool::service]] or [[moonpool::actor]]") +
           " are numbered; remove it";
  }
};

// "service 'Jobs'", "actor 'Account'", "message 'Put'", "class 'Plain'": the record that
// declares a member, as the tool's rules name it.
std::string describeOwner(const clang::CXXRecordDecl& owner) {
  std::string name = "'" + owner.getNameAsString() + "'";
  if (hasAnnotation(&owner, kServiceAnnotation)) return "service " + name;
  if (hasAnnotation(&owner, kActorAnnotation)) return "actor " + name;
  if (hasAnnotation(&owner, kMessageAnnotation)) return "message " + name;
  return "class " + name;
}

// `[[moonpool::idempotent]]` on a method of a service or a public method of an actor: the
// generated XRemote (or ActorRef) sends it again after a reconnect (attributes.h).
// Arguments are accepted by the parser (OptArgs) so that handleDeclAttribute can say how to
// fix them, rather than clang's bare "takes no arguments".
class IdempotentAttrInfo final : public ParsedAttrInfo {
 public:
  IdempotentAttrInfo() {
    OptArgs = kParsedArgsMax;
    static constexpr Spelling kSpellings[] = {
        {ParsedAttr::AS_CXX11, kIdempotentAnnotation},
        {ParsedAttr::AS_CXX11, kIdempotentAnnotation + sizeof(kScope) + 1},
    };
    Spellings = kSpellings;
  }

  // implements ParsedAttrInfo
  bool diagAppertainsToDecl(clang::Sema& sema, const ParsedAttr& attr,
                            const clang::Decl* decl) const override {
    if (llvm::isa<clang::CXXMethodDecl>(decl)) return true;
    reportError(sema, attr.getLoc(), idempotentMisplacedMessage());
    return false;
  }

  AttrHandling handleDeclAttribute(clang::Sema& sema, clang::Decl* decl,
                                   const ParsedAttr& attr) const override {
    if (!hasOurScope(sema, attr)) return AttributeNotApplied;
    const auto& method = *llvm::cast<clang::CXXMethodDecl>(decl);  // diagAppertainsToDecl
    std::string problem =
        attr.getNumArgs() != 0 ? idempotentArgumentsMessage() : ownerProblem(method);
    if (!problem.empty()) {
      reportError(sema, attr.getLoc(), problem);
      return AttributeNotApplied;
    }
    // Twice on one method means the same as once.
    if (hasAnnotation(decl, kIdempotentAnnotation)) return AttributeApplied;
    decl->addAttr(clang::AnnotateAttr::Create(sema.Context, kIdempotentAnnotation, nullptr, 0,
                                              attr.getRange()));
    return AttributeApplied;
  }

 private:
  // The most arguments the parser accepts (ParsedAttrInfo::OptArgs is a 4-bit field).
  static constexpr unsigned kParsedArgsMax = 15;

  // Empty when the method is one the schema of a service contains.
  static std::string ownerProblem(const clang::CXXMethodDecl& method) {
    const clang::CXXRecordDecl& owner = *method.getParent();
    // A member's access is not known yet while its attributes are parsed: a private actor
    // method is left to the tool's idempotent-methods rule.
    if (!hasAnnotation(&owner, kServiceAnnotation) &&
        !hasAnnotation(&owner, kActorAnnotation)) {
      return idempotentNotServiceMessage(method.getNameAsString(), describeOwner(owner));
    }
    if (llvm::isa<clang::CXXConstructorDecl, clang::CXXDestructorDecl>(method) ||
        method.isCopyAssignmentOperator() || method.isMoveAssignmentOperator()) {
      return idempotentSpecialMemberMessage(method.getNameAsString(), describeOwner(owner));
    }
    return "";
  }
};

// `[[moonpool::reentrant]]` on an actor class or on a method of one (attributes.h). The
// class attribute must follow [[moonpool::actor]]: attributes are applied in order, and a
// class that is not (yet) an actor has no turns to relax.
class ReentrantAttrInfo final : public ParsedAttrInfo {
 public:
  ReentrantAttrInfo() {
    static constexpr Spelling kSpellings[] = {
        {ParsedAttr::AS_CXX11, kReentrantAnnotation},
        {ParsedAttr::AS_CXX11, kReentrantAnnotation + sizeof(kScope) + 1},
    };
    Spellings = kSpellings;
  }

  // implements ParsedAttrInfo
  bool diagAppertainsToDecl(clang::Sema& sema, const ParsedAttr& attr,
                            const clang::Decl* decl) const override {
    if (llvm::isa<clang::CXXMethodDecl>(decl) || isClassOrStruct(decl)) return true;
    reportError(sema, attr.getLoc(),
                "'moonpool::reentrant' only applies to a [[moonpool::actor]] class or to its "
                "methods; move it there");
    return false;
  }

  AttrHandling handleDeclAttribute(clang::Sema& sema, clang::Decl* decl,
                                   const ParsedAttr& attr) const override {
    if (!hasOurScope(sema, attr)) return AttributeNotApplied;
    const auto* method = llvm::dyn_cast<clang::CXXMethodDecl>(decl);
    const clang::Decl* actor = method != nullptr ? method->getParent() : decl;
    if (!hasAnnotation(actor, kActorAnnotation)) {
      reportError(sema, attr.getLoc(),
                  method != nullptr
                      ? "'moonpool::reentrant' on method '" + method->getNameAsString() +
                            "' of " + describeOwner(*method->getParent()) +
                            " does nothing: only methods of a [[moonpool::actor]] take "
                            "turns; remove it"
                      : "'moonpool::reentrant' on " +
                            describeOwner(*llvm::cast<clang::CXXRecordDecl>(decl)) +
                            " does nothing: only a [[moonpool::actor]] takes turns; write it "
                            "after [[moonpool::actor]], or remove it");
      return AttributeNotApplied;
    }
    if (hasAnnotation(decl, kReentrantAnnotation)) return AttributeApplied;
    decl->addAttr(clang::AnnotateAttr::Create(sema.Context, kReentrantAnnotation, nullptr, 0,
                                              attr.getRange()));
    return AttributeApplied;
  }
};

// Static registrations: clang walks this registry when it meets an unknown attribute.
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kServiceAnnotation>> registerService(
    "moonpool-service", "[[moonpool::service]]: an RPC service interface");
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kActorAnnotation>> registerActor(
    "moonpool-actor", "[[moonpool::actor]]: a virtual actor class");
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kMessageAnnotation>> registerMessage(
    "moonpool-message", "[[moonpool::message]]: a serializable struct");
clang::ParsedAttrInfoRegistry::Add<OrdinalAttrInfo> registerOrdinal(
    "moonpool-ordinal", "[[moonpool::ordinal(N)]]: a pinned Cap'n Proto ordinal");
clang::ParsedAttrInfoRegistry::Add<IdempotentAttrInfo> registerIdempotent(
    "moonpool-idempotent", "[[moonpool::idempotent]]: a service method safe to resend");
clang::ParsedAttrInfoRegistry::Add<ReentrantAttrInfo> registerReentrant(
    "moonpool-reentrant", "[[moonpool::reentrant]]: actor calls that interleave");

}  // namespace
}  // namespace moonpool::annotate
