"""A shorter road through graphql-core's execution for the plain case of a read-only query.

graphql-core executes a query field by field through a general machine: per field it looks up the
definition, builds a `GraphQLResolveInfo`, works out the arguments, walks the type wrappers and
checks for awaitables - some 25 µs a field, most of a `suggestedRefund` answer's time. What it
decides about a document's shape does not change between requests: which fields each selection
collects on each object type, their definitions, return types and serializers, and the arguments
that use no variables. A `QueryPlan` keeps those decisions per (version, query text, operation),
so a request walks only the resolvers and the serializers.

It is graphql-core's machine still, not another one: graphql-core parses and validates, coerces the
variables, collects the fields (`collect_fields`), computes the arguments (`get_argument_values`)
and serializes with the schema's own scalars. The plan covers only what has one obvious outcome:
object types, lists, leaves and `__typename`, with no `@skip`/`@include`, no abstract types and no
introspection. Whenever a request leaves that road - a resolver raises, a non-null field is null,
a value is not of its type - the plan gives up (`NotPlain`) and the caller executes the request
with graphql-core from the start, which answers errors, paths and null propagation as it always
does. Queries only: a mutation has effects and is never run twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    visit,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.values import get_argument_values
from graphql.language import Visitor
from graphql.pyutils import Undefined
from graphql.utilities import coerce_input_value, type_from_ast, value_from_ast

LEAF, OBJECT, LEAF_LIST, OBJECT_LIST, TYPENAME = range(5)


class NotPlain(Exception):
    """The request leaves the plan's road: graphql-core executes it instead."""


def _never_awaitable(_value: Any) -> bool:
    return False


@dataclass(eq=False, slots=True)
class FieldStep:
    """One response key of an object: how to resolve it and how to complete its value."""

    key: str
    name: str
    kind: int
    nodes: list[FieldNode]
    definition: Any
    parent_type: GraphQLObjectType
    resolve: Callable[..., Any] | None  # the field's own resolver; None: graphql-core's default one
    non_null: bool = False
    item_non_null: bool = False
    serialize: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    arguments: dict[str, Any] | None = None  # computed once when they use no variables
    variable_arguments: bool = False
    children: ObjectPlan | None = None


@dataclass(eq=False, slots=True)
class ObjectPlan:
    steps: list[FieldStep] = field(default_factory=list)


def _has_directives(document: DocumentNode) -> bool:
    """Whether any directive is written (`@skip`/`@include` decide per request which fields run)."""
    found = False

    class Finder(Visitor):
        def enter_directive(self, *_: Any) -> None:
            nonlocal found
            found = True

    visit(document, Finder())
    return found


class QueryPlan:
    """The decisions about one query operation's shape, made on its first request."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode):
        if operation.operation != OperationType.QUERY or _has_directives(document):
            raise NotPlain("not a plain query")
        root = schema.query_type
        if root is None:
            raise NotPlain("no query type")
        self.schema = schema
        self.document = document
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.root_type = root
        fields = collect_fields(schema, self.fragments, {}, root, operation.selection_set)
        self.root = self._object_plan(root, fields)
        # (name, input type, default value node) of each variable, looked up once
        self.variable_types = [
            (d.variable.name.value, type_from_ast(schema, d.type), d.default_value)
            for d in operation.variable_definitions or ()
        ]
        if any(kind is None for _, kind, _ in self.variable_types):
            raise NotPlain("a variable of an unknown type")

    def _object_plan(self, parent: GraphQLObjectType, fields: dict[str, list[FieldNode]]) -> ObjectPlan:
        if parent.is_type_of is not None:
            raise NotPlain("type with is_type_of")
        return ObjectPlan([self._step(parent, key, nodes) for key, nodes in fields.items()])

    def _step(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldStep:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldStep(key, name, TYPENAME, nodes, None, parent, None)
        if name.startswith("__"):
            raise NotPlain("introspection")
        definition = parent.fields[name]
        field_type = definition.type
        step = FieldStep(key, name, LEAF, nodes, definition, parent, definition.resolve)
        if isinstance(field_type, GraphQLNonNull):
            step.non_null, field_type = True, field_type.of_type
        is_list = isinstance(field_type, GraphQLList)
        if is_list:
            field_type = field_type.of_type
            if isinstance(field_type, GraphQLNonNull):
                step.item_non_null, field_type = True, field_type.of_type
        if isinstance(field_type, GraphQLScalarType | GraphQLEnumType):
            step.kind = LEAF_LIST if is_list else LEAF
            step.serialize = field_type.serialize
        elif isinstance(field_type, GraphQLObjectType):
            step.kind = OBJECT_LIST if is_list else OBJECT
            step.object_type = field_type
            sub_fields = collect_sub_fields(self.schema, self.fragments, {}, field_type, nodes)
            step.children = self._object_plan(field_type, sub_fields)
        else:  # an interface, a union, a list of lists: graphql-core's general machine
            raise NotPlain(f"field {name} of type {field_type}")
        if definition.args:
            if any(_uses_variables(node) for node in nodes[0].arguments or ()):
                step.variable_arguments = True
            else:
                try:
                    step.arguments = get_argument_values(definition, nodes[0], {})
                except Exception as error:  # (validation let it through) graphql-core says what is wrong
                    raise NotPlain(f"the arguments of {name}") from error
        return step

    def execute(self, context: Any, raw_variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of the query, or `NotPlain` when graphql-core must answer."""
        run = _Run(self, context, self.coerced(raw_variables))
        return run.object(self.root, None)

    def coerced(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The variables as graphql-core coerces them (`coerce_variable_values`, with each type looked
        up once); a value it refuses leaves the road, and graphql-core says why."""
        coerced: dict[str, Any] = {}
        for name, kind, default in self.variable_types:
            if name not in raw:
                if default is not None:
                    coerced[name] = value_from_ast(default, kind)
                elif isinstance(kind, GraphQLNonNull):
                    raise NotPlain(f"${name} is missing")
                continue
            value = raw[name]
            if value is None and isinstance(kind, GraphQLNonNull):
                raise NotPlain(f"${name} is null")
            coerced[name] = coerce_input_value(value, kind, _refused)
        return coerced


def _refused(*_: Any) -> None:
    raise NotPlain("a variable graphql-core refuses")


def _uses_variables(argument: Any) -> bool:
    found = False

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> None:
            nonlocal found
            found = True

    visit(argument, Finder())
    return found


class _Run:
    """One request through a plan."""

    __slots__ = ("context", "plan", "variables")

    def __init__(self, plan: QueryPlan, context: Any, variables: dict[str, Any]):
        self.plan = plan
        self.context = context
        self.variables = variables

    def info(self, step: FieldStep) -> GraphQLResolveInfo:
        """What a resolver that reads its `info` needs: the context, the field, the variables.
        (No response path: the plan's resolvers never read it, and errors are graphql-core's.)"""
        plan = self.plan
        return GraphQLResolveInfo(
            step.name,
            step.nodes,
            step.definition.type,
            step.parent_type,
            None,  # type: ignore[arg-type]
            plan.schema,
            plan.fragments,
            None,
            plan.operation,
            self.variables,
            self.context,
            _never_awaitable,
        )

    def object(self, plan: ObjectPlan, source: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        is_mapping = _is_mapping(type(source))
        for step in plan.steps:
            kind = step.kind
            if kind == TYPENAME:
                answer[step.key] = step.parent_type.name
                continue
            arguments = step.arguments
            if step.variable_arguments:
                arguments = get_argument_values(step.definition, step.nodes[0], self.variables)
            try:
                if step.resolve is not None:
                    value = step.resolve(source, self.info(step), **(arguments or {}))
                else:
                    value = source.get(step.name) if is_mapping else getattr(source, step.name, None)
                    if callable(value):
                        value = value(self.info(step), **(arguments or {}))
            except Exception as error:  # graphql-core writes the field's error, with its path
                raise NotPlain(f"{step.name} raised") from error
            if value is None:
                if step.non_null:
                    raise NotPlain(f"{step.name} is null")
                answer[step.key] = None
            elif kind == LEAF:  # (an error returned as a value is refused by every serializer)
                answer[step.key] = _leaf(step.serialize, value)  # type: ignore[arg-type]
            elif isinstance(value, Exception):
                raise NotPlain(f"{step.name} returned an error")
            elif kind == OBJECT:
                answer[step.key] = self.object(step.children, value)  # type: ignore[arg-type]
            else:
                answer[step.key] = self.items(step, value)
        return answer

    def items(self, step: FieldStep, value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise NotPlain(f"{step.name} is not a list")
        completed: list[Any] = []
        for item in value:
            if item is None:
                if step.item_non_null:
                    raise NotPlain(f"an item of {step.name} is null")
                completed.append(None)
            elif isinstance(item, Exception):
                raise NotPlain(f"an item of {step.name} is an error")
            elif step.kind == LEAF_LIST:
                completed.append(_leaf(step.serialize, item))  # type: ignore[arg-type]
            else:
                completed.append(self.object(step.children, item))  # type: ignore[arg-type]
        return completed


@lru_cache(maxsize=256)
def _is_mapping(kind: type) -> bool:
    """Whether graphql-core's default resolver reads values of this type by key (else by attribute)."""
    return issubclass(kind, Mapping)


def _leaf(serialize: Callable[[Any], Any], value: Any) -> Any:
    try:
        serialized = serialize(value)
    except Exception as error:
        raise NotPlain("a value its type does not take") from error
    if serialized is None or serialized is Undefined:
        raise NotPlain("a value its type does not take")
    return serialized
