// AST -> IR mapping (see ast_mapper.h).
#include "ast_mapper.h"

#include <clang/AST/Attr.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/DeclTemplate.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Lex/Lexer.h>

#include <llvm/Support/Path.h>

#include <limits>

#include "attributes.h"
#include "capnp_names.h"
#include "type_mapper.h"

namespace moonpool::annotate {
namespace {

bool isLifecycleHook(const std::string& name) {
  return name == "onActivate" || name == "onDeactivate";
}

bool hasReentrantMark(const clang::Decl& decl) {
  for (const auto* attr : decl.specific_attrs<clang::AnnotateAttr>()) {
    if (attr->getAnnotation() == kReentrantAnnotation) return true;
  }
  return false;
}

// Walks declaration contexts of the main file, mapping annotated records.
class Mapper {
 public:
  explicit Mapper(clang::ASTContext& context)
      : context_(context), types_(context, schema_.enums) {}

  Schema run() {
    const clang::SourceManager& sources = context_.getSourceManager();
    if (clang::OptionalFileEntryRef main = sources.getFileEntryRefForID(sources.getMainFileID())) {
      schema_.headerName = llvm::sys::path::filename(main->getName()).str();
    }
    walk(*context_.getTranslationUnitDecl());
    assignSchemaNames(schema_);
    return std::move(schema_);
  }

 private:
  bool inMainFile(const clang::Decl& decl) const {
    const clang::SourceManager& sources = context_.getSourceManager();
    return sources.isInMainFile(sources.getExpansionLoc(decl.getLocation()));
  }

  void walk(const clang::DeclContext& parent) {
    for (const clang::Decl* decl : parent.decls()) {
      noteIdempotent(*decl);
      if (const auto* ns = llvm::dyn_cast<clang::NamespaceDecl>(decl)) {
        walk(*ns);
      } else if (const auto* linkage = llvm::dyn_cast<clang::LinkageSpecDecl>(decl)) {
        walk(*linkage);
      } else if (const auto* classTemplate = llvm::dyn_cast<clang::ClassTemplateDecl>(decl)) {
        visitRecord(*classTemplate->getTemplatedDecl(), /*isTemplate=*/true);
      } else if (llvm::isa<clang::ClassTemplateSpecializationDecl>(decl)) {
        const auto& spec = llvm::cast<clang::ClassTemplateSpecializationDecl>(*decl);
        // Explicit and partial specializations are templates to the user; implicit
        // instantiations are reported once, on their pattern.
        if (spec.getSpecializationKind() != clang::TSK_ImplicitInstantiation) {
          visitRecord(spec, /*isTemplate=*/true);
        }
      } else if (const auto* record = llvm::dyn_cast<clang::CXXRecordDecl>(decl)) {
        visitRecord(*record, /*isTemplate=*/false);
      }
    }
  }

  void visitRecord(const clang::CXXRecordDecl& record, bool isTemplate) {
    if (!record.isThisDeclarationADefinition() || record.isImplicit() || !inMainFile(record)) {
      return;
    }
    std::optional<RecordKind> kind = moonpoolKindOf(record);
    if (kind.has_value()) schema_.records.push_back(mapRecord(record, *kind, isTemplate));
    walk(record);  // nested annotated types
  }

  Record mapRecord(const clang::CXXRecordDecl& decl, RecordKind kind, bool isTemplate);
  void mapMembers(const clang::CXXRecordDecl& decl, Record& record);
  void noteStrayPin(const clang::Decl& member, Record& record);
  void noteIdempotent(const clang::Decl& decl);
  void noteStrayIdempotent(const clang::Decl& decl);
  Method mapMethod(const clang::CXXMethodDecl& decl);
  void mapReturn(const clang::CXXMethodDecl& decl, Method& method);

  clang::ASTContext& context_;
  Schema schema_;
  TypeMapper types_;
};

Record Mapper::mapRecord(const clang::CXXRecordDecl& decl, RecordKind kind, bool isTemplate) {
  Record record;
  record.kind = kind;
  record.name = decl.getNameAsString();
  record.qualifiedName = decl.getQualifiedNameAsString();
  size_t colon = record.qualifiedName.rfind("::");
  if (colon != std::string::npos) record.enclosingNamespace = record.qualifiedName.substr(0, colon);
  record.loc = decl.getLocation();
  record.isTemplate = isTemplate || decl.getDescribedClassTemplate() != nullptr;
  // A template's members are dependent (its destructor, `Task<T>` results): facts read from
  // them would be wrong, and rule no-templates reports the class alone.
  if (record.isTemplate) return record;
  const clang::CXXDestructorDecl* destructor = decl.getDestructor();
  record.hasVirtualDestructor = destructor != nullptr && destructor->isVirtual() &&
                                destructor->getAccess() == clang::AS_public;
  if (decl.getNumBases() > 0) {
    record.hasBases = true;
    record.firstBaseLoc = decl.bases_begin()->getBeginLoc();
  }
  record.isReentrant = hasReentrantMark(decl);
  mapMembers(decl, record);
  return record;
}

// Methods of services and actors (actors: public ones only, the rest is implementation),
// fields of messages.
void Mapper::mapMembers(const clang::CXXRecordDecl& decl, Record& record) {
  for (const clang::Decl* member : decl.decls()) {
    if (member->isImplicit()) continue;
    const auto* field = llvm::dyn_cast<clang::FieldDecl>(member);
    if (field != nullptr && record.kind == RecordKind::kMessage) {
      if (field->getAccess() != clang::AS_public && record.firstNonPublicFieldName.empty()) {
        record.firstNonPublicFieldName = field->getNameAsString();
        record.firstNonPublicFieldLoc = field->getLocation();
      }
      record.fields.push_back({field->getNameAsString(),
                               types_.map(field->getType(), TypePosition::kField),
                               field->getLocation(), ordinalPinsOf(*field, context_), -1,
                               field->getType().isConstQualified(), field->isBitField(), ""});
      continue;
    }
    bool isPublic = member->getAccess() == clang::AS_public;
    if (record.kind == RecordKind::kMessage && !record.firstConstructorLoc &&
        llvm::isa<clang::CXXConstructorDecl>(member)) {
      record.firstConstructorLoc = member->getLocation();
    }
    if (field != nullptr || record.kind == RecordKind::kMessage ||
        (record.kind == RecordKind::kActor && !isPublic)) {
      noteStrayPin(*member, record);  // not part of the schema
      continue;
    }
    if (const auto* functionTemplate = llvm::dyn_cast<clang::FunctionTemplateDecl>(member)) {
      Method method;
      method.name = functionTemplate->getNameAsString();
      method.loc = functionTemplate->getLocation();
      method.isTemplate = true;
      method.isPublic = isPublic;
      method.pins = ordinalPinsOf(*functionTemplate->getTemplatedDecl(), context_);
      record.methods.push_back(std::move(method));
      continue;
    }
    const auto* method = llvm::dyn_cast<clang::CXXMethodDecl>(member);
    if (method == nullptr || llvm::isa<clang::CXXConstructorDecl>(method) ||
        llvm::isa<clang::CXXDestructorDecl>(method) || method->isCopyAssignmentOperator() ||
        method->isMoveAssignmentOperator() || method->isDeleted()) {
      noteStrayPin(*member, record);
      continue;
    }
    // An actor's lifecycle hooks are called by the actor runtime, never remotely.
    if (record.kind == RecordKind::kActor && isLifecycleHook(method->getNameAsString())) {
      record.lifecycleHooks.push_back(method->getNameAsString());
      continue;
    }
    record.methods.push_back(mapMethod(*method));
  }
}

// A pin on a member that is not part of the schema would silently do nothing; the
// ordinal-pins rule reports it.
void Mapper::noteStrayPin(const clang::Decl& member, Record& record) {
  const auto* named = llvm::dyn_cast<clang::NamedDecl>(&member);
  if (named == nullptr) return;
  std::vector<OrdinalPin> pins = ordinalPinsOf(member, context_);
  if (const auto* functionTemplate = llvm::dyn_cast<clang::FunctionTemplateDecl>(&member)) {
    pins = ordinalPinsOf(*functionTemplate->getTemplatedDecl(), context_);
  }
  if (!pins.empty()) record.strayPins.push_back({named->getNameAsString(), pins.front().loc});
}

// [[moonpool::idempotent]] on a declaration of the header (walk() sees every declaration at
// namespace or class scope), its parameters or its enumerators: anywhere but on a method of
// a service's or an actor's schema it does nothing, and the idempotent-methods rule reports
// it.
void Mapper::noteIdempotent(const clang::Decl& decl) {
  const clang::Decl* target = &decl;
  if (const auto* templateDecl = llvm::dyn_cast<clang::TemplateDecl>(&decl)) {
    target = templateDecl->getTemplatedDecl();
  }
  if (target == nullptr) return;
  const auto* function = llvm::dyn_cast<clang::FunctionDecl>(target);
  const auto* enumDecl = llvm::dyn_cast<clang::EnumDecl>(target);
  if (!target->hasAttrs() && function == nullptr && enumDecl == nullptr) return;
  if (!inMainFile(*target)) return;
  noteStrayIdempotent(*target);
  if (function != nullptr) {
    for (const clang::ParmVarDecl* param : function->parameters()) noteStrayIdempotent(*param);
  }
  if (enumDecl != nullptr) {
    for (const clang::EnumConstantDecl* enumerator : enumDecl->enumerators()) {
      noteStrayIdempotent(*enumerator);
    }
  }
}

void Mapper::noteStrayIdempotent(const clang::Decl& decl) {
  std::vector<IdempotentMark> marks = idempotentMarksOf(decl);
  if (marks.empty()) return;
  StrayIdempotent stray;
  if (const auto* method = llvm::dyn_cast<clang::CXXMethodDecl>(&decl)) {
    const clang::CXXRecordDecl& owner = *method->getParent();
    std::optional<RecordKind> kind = moonpoolKindOf(owner);
    bool special = llvm::isa<clang::CXXConstructorDecl, clang::CXXDestructorDecl>(method) ||
                   method->isCopyAssignmentOperator() || method->isMoveAssignmentOperator();
    const bool actorMethod = kind == RecordKind::kActor &&
                             method->getAccess() == clang::AS_public &&
                             !isLifecycleHook(method->getNameAsString());
    if ((kind == RecordKind::kService || actorMethod) && !special) return;  // mapMethod's
    stray.place = kind == RecordKind::kService ? StrayIdempotent::Place::kSpecialMember
                                               : StrayIdempotent::Place::kOtherClassMethod;
    stray.memberName = method->getNameAsString();
    stray.ownerName = owner.getNameAsString();
    stray.ownerKind = kind;
  }
  for (const IdempotentMark& mark : marks) {
    stray.mark = mark;
    schema_.strayIdempotent.push_back(stray);
  }
}

Method Mapper::mapMethod(const clang::CXXMethodDecl& decl) {
  Method method;
  method.name = decl.getNameAsString();
  method.loc = decl.getLocation();
  method.isVirtual = decl.isVirtual();
  method.isPure = decl.isPureVirtual();
  method.isStatic = decl.isStatic();
  method.isPublic = decl.getAccess() == clang::AS_public;
  method.isConst = decl.isConst();
  method.isRefQualified = decl.getRefQualifier() != clang::RQ_None;
  method.pins = ordinalPinsOf(decl, context_);
  method.idempotentMarks = idempotentMarksOf(decl);
  method.isReentrant = hasReentrantMark(decl);
  if (const auto* proto = decl.getType()->getAs<clang::FunctionProtoType>()) {
    method.isNoexcept = proto->isNothrow();
  }
  mapReturn(decl, method);
  for (const clang::ParmVarDecl* param : decl.parameters()) {
    Field field{param->getNameAsString(), types_.map(param->getType(), TypePosition::kParameter),
                param->getLocation(), {}, -1, false, false, ""};
    if (param->hasDefaultArg() && !param->hasUninstantiatedDefaultArg()) {
      const auto range = clang::CharSourceRange::getTokenRange(param->getDefaultArgRange());
      field.defaultArgument =
          clang::Lexer::getSourceText(range, context_.getSourceManager(), context_.getLangOpts())
              .str();
    }
    method.params.push_back(std::move(field));
  }
  return method;
}

// Recognizes moonpool::Task<T> (T defaults to void) and maps T.
void Mapper::mapReturn(const clang::CXXMethodDecl& decl, Method& method) {
  clang::QualType returnType = decl.getReturnType();
  clang::PrintingPolicy policy = context_.getPrintingPolicy();
  policy.SuppressTagKeyword = true;
  method.returnSpelling = returnType.getAsString(policy);
  const auto* record = returnType.getCanonicalType()->getAsCXXRecordDecl();
  const auto* spec = llvm::dyn_cast_or_null<clang::ClassTemplateSpecializationDecl>(record);
  if (spec == nullptr || spec->getName() != "Task") return;
  const auto* ns = llvm::dyn_cast<clang::NamespaceDecl>(spec->getDeclContext());
  if (ns == nullptr || ns->getName() != "moonpool" ||
      !ns->getParent()->getRedeclContext()->isTranslationUnit()) {
    return;
  }
  method.returnsTask = true;
  clang::QualType valueType = spec->getTemplateArgs().get(0).getAsType();
  // Map the type as written in the return type when there is one (better spellings).
  if (const auto* written = returnType->getAs<clang::TemplateSpecializationType>()) {
    if (!written->template_arguments().empty()) {
      valueType = written->template_arguments()[0].getAsType();
    }
  }
  method.result = types_.map(valueType, TypePosition::kResult);
}

}  // namespace

std::optional<RecordKind> moonpoolKindOf(const clang::Decl& decl) {
  for (const auto* attr : decl.specific_attrs<clang::AnnotateAttr>()) {
    llvm::StringRef annotation = attr->getAnnotation();
    if (annotation == kServiceAnnotation) return RecordKind::kService;
    if (annotation == kActorAnnotation) return RecordKind::kActor;
    if (annotation == kMessageAnnotation) return RecordKind::kMessage;
  }
  return std::nullopt;
}

std::vector<OrdinalPin> ordinalPinsOf(const clang::Decl& decl, clang::ASTContext& context) {
  std::vector<OrdinalPin> pins;
  for (const auto* attr : decl.specific_attrs<clang::AnnotateAttr>()) {
    if (attr->getAnnotation() != kOrdinalAnnotation) continue;
    OrdinalPin pin;
    pin.loc = attr->getLocation();
    if (attr->args_size() == 1) {
      const clang::Expr* arg = *attr->args_begin();
      if (!arg->isValueDependent()) {
        if (std::optional<llvm::APSInt> value = arg->getIntegerConstantExpr(context)) {
          // Clamped into int64_t; the range check is the ordinal-pins rule's.
          pin.value = value->isRepresentableByInt64() ? value->getExtValue()
                      : value->isNegative() ? std::numeric_limits<int64_t>::min()
                                            : std::numeric_limits<int64_t>::max();
        }
      }
    }
    pins.push_back(pin);
  }
  return pins;
}

std::vector<IdempotentMark> idempotentMarksOf(const clang::Decl& decl) {
  std::vector<IdempotentMark> marks;
  for (const auto* attr : decl.specific_attrs<clang::AnnotateAttr>()) {
    if (attr->getAnnotation() != kIdempotentAnnotation) continue;
    marks.push_back({attr->getLocation(), attr->args_size() != 0});
  }
  return marks;
}

Schema mapTranslationUnit(clang::ASTContext& context) { return Mapper(context).run(); }

}  // namespace moonpool::annotate
