"""Query cost as Shopify documents it ("GraphQL Admin API rate limits", cost calculation).

A scalar or enum costs 0, an object 1, an interface or union the most of its possible
selections, a mutation field 10. A connection costs 2 plus, for each of the `first` (or `last`)
items it may return, the cost of the fields selected on one item; `pageInfo` and the item object
itself are part of the 2. The requested cost is computed from the query before it runs; the
actual cost from the answer, with the items really returned and nothing below a null object.
A list field that is not a connection costs like its items, times its `first` when given (once
when not). A real app states 53 for `refund { refundLineItems(first: 10) { pageInfo nodes {
lineItem {id} quantity restockType location {legacyResourceId} restocked priceSet subtotalSet
totalTaxSet } } }` (microsoft/ALAppExtensions), what these rules give with each money set counted
as one object.

A query is walked once into a plan (per version and query text, cached); pricing a request or
its answer then only reads the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
CONNECTION_COST = 2
OBJECT, LIST, CONNECTION = 1, 2, 3


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One non-leaf field of a query: how it is priced and what is selected below it."""

    key: str  # the response key (alias or name)
    kind: int  # OBJECT, LIST or CONNECTION
    sizes: tuple[ValueNode, ...]  # `first`/`last` of a connection, `first` of a list
    # The fields below: of the object, of each list item, or of one connection item; one tuple
    # per possible type for an interface or union (the most expensive counts).
    children: tuple[tuple[FieldPlan, ...], ...]


class OperationPlan:
    """The priced fields of one operation; its requested cost is kept when no variable sizes it."""

    def __init__(self, mutation: bool, fields: tuple[FieldPlan, ...]):
        self.mutation = mutation
        self.fields = fields
        self._fixed: int | None = None if _sized_by_variables(fields) else self._compute({})

    def requested(self, variables: dict[str, Any]) -> int:
        return self._fixed if self._fixed is not None else self._compute(variables)

    def _compute(self, variables: dict[str, Any]) -> int:
        return sum(_requested(plan, variables) + self._extra() for plan in self.fields)

    def actual(self, data: dict[str, Any] | None) -> int:
        if not data:
            return 0
        return sum(_actual(plan, data[plan.key]) + self._extra() for plan in self.fields if plan.key in data)

    def _extra(self) -> int:
        return MUTATION_COST - 1 if self.mutation else 0


def _sized_by_variables(fields: tuple[FieldPlan, ...]) -> bool:
    return any(
        any(isinstance(size, VariableNode) for size in plan.sizes)
        or any(_sized_by_variables(children) for children in plan.children)
        for plan in fields
    )


def _size(plan: FieldPlan, variables: dict[str, Any]) -> int:
    numbers = [value_from_ast_untyped(node, variables) for node in plan.sizes]
    numbers = [n for n in numbers if isinstance(n, int) and not isinstance(n, bool) and n >= 0]
    return max(numbers, default=0 if plan.kind == CONNECTION else 1)


def _children_cost(children: tuple[tuple[FieldPlan, ...], ...], variables: dict[str, Any]) -> int:
    return max((sum(_requested(child, variables) for child in fields) for fields in children), default=0)


def _requested(plan: FieldPlan, variables: dict[str, Any]) -> int:
    below = _children_cost(plan.children, variables)
    if plan.kind == CONNECTION:
        return CONNECTION_COST + _size(plan, variables) * below
    if plan.kind == LIST:
        return _size(plan, variables) * (1 + below)
    return 1 + below


def _actual_below(children: tuple[tuple[FieldPlan, ...], ...], value: Any) -> int:
    if not isinstance(value, dict):
        return 0
    most = 0  # the most expensive possible type (an object type has one); loops, not generators:
    for fields in children:  # this runs for every object of every answer
        total = 0
        for child in fields:
            if child.key in value:
                total += _actual(child, value[child.key])
        most = max(most, total)
    return most


def _actual(plan: FieldPlan, value: Any) -> int:
    if value is None:
        return 1
    if plan.kind == CONNECTION:
        items = value.get("nodes") if isinstance(value.get("nodes"), list) else None
        if items is None:
            items = [edge.get("node") for edge in value.get("edges") or [] if isinstance(edge, dict)]
        return CONNECTION_COST + sum(_actual_below(plan.children, item) for item in items)
    if isinstance(value, list):
        return sum(1 + _actual_below(plan.children, item) for item in value)
    return 1 + _actual_below(plan.children, value)


class _Planner:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode):
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> list[FieldNode]:
        """The fields of a selection set with its fragments spread (every type condition counted)."""
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self.fields(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    found.extend(self.fields(fragment.selection_set, seen | {name}))
        return found

    def plans(self, parent: Any, selection_set: SelectionSetNode | None) -> tuple[tuple[FieldPlan, ...], ...]:
        """The priced fields below `parent`: one tuple, or one per possible type of an abstract type."""
        if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
            return tuple(self._object_plans(kind, selection_set) for kind in self.schema.get_possible_types(parent))
        return (self._object_plans(parent, selection_set),)

    def _object_plans(self, parent: Any, selection_set: SelectionSetNode | None) -> tuple[FieldPlan, ...]:
        found = []
        seen: set[str] = set()
        for node in self.fields(selection_set):
            key = node.alias.value if node.alias else node.name.value
            plan = self.field(parent, node)
            if plan is not None and key not in seen:
                seen.add(key)
                found.append(plan)
        return tuple(found)

    def field(self, parent: Any, node: FieldNode) -> FieldPlan | None:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return None
        field_type = fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return None
        key = node.alias.value if node.alias else node.name.value
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if named.name.endswith("Connection"):
            sizes = tuple(arguments[size] for size in ("first", "last") if size in arguments)
            return FieldPlan(key, CONNECTION, sizes, self._item_plans(named, node))
        children = self.plans(named, node.selection_set)
        if _is_list(field_type):
            sizes = (arguments["first"],) if "first" in arguments else ()
            return FieldPlan(key, LIST, sizes, children)
        return FieldPlan(key, OBJECT, (), children)

    def _item_plans(self, connection: Any, node: FieldNode) -> tuple[tuple[FieldPlan, ...], ...]:
        """The fields selected on one item of a connection (in `nodes` or an edge's `node`), merged."""
        item_type = get_named_type(connection.fields["nodes"].type)
        selections: list[FieldNode] = []
        for child in self.fields(node.selection_set):
            if child.name.value == "nodes":
                selections.extend(self.fields(child.selection_set))
            elif child.name.value == "edges":
                for edge_child in self.fields(child.selection_set):
                    if edge_child.name.value == "node":
                        selections.extend(self.fields(edge_child.selection_set))
        merged = SelectionSetNode(selections=tuple(selections))
        return self.plans(item_type, merged)


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def plan_operation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> OperationPlan:
    root = schema.get_root_type(operation.operation)
    planner = _Planner(schema, document)
    fields = planner._object_plans(root, operation.selection_set)
    return OperationPlan(operation.operation == OperationType.MUTATION, fields)


def plan_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> OperationPlan | None:
    """The plan of the operation a request runs, or None when the document names no such operation."""
    operation = operation_of(document, operation_name)
    return None if operation is None else plan_operation(schema, document, operation)
