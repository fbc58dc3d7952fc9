"""Query cost as Shopify documents it ("GraphQL Admin API rate limits", cost calculation).

A scalar or enum costs 0, an object 1, an interface or union the most of its possible
selections, a mutation field 10. A connection costs 2 plus, for each of the `first` (or `last`)
items it may return, the cost of the fields selected on one item; `pageInfo` and the item object
itself are part of the 2. The requested cost is computed from the query before it runs; the
actual cost from the answer, with the items really returned and nothing below a null object.
A list field that is not a connection costs like its items, times its `first` when given.
A real app states 53 for `refund { refundLineItems(first: 10) { pageInfo nodes { lineItem {id}
quantity restockType location {legacyResourceId} restocked priceSet subtotalSet totalTaxSet } } }`
(microsoft/ALAppExtensions), what these rules give with each money set counted as one object.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
CONNECTION_COST = 2
CONNECTION_ITEM_FIELDS = ("edges", "nodes")


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


class CostCalculator:
    """Requested and actual cost of one operation."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any] | None):
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def _fields(self, selection_set: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> list[FieldNode]:
        """The fields of a selection set with its fragments spread (every type condition counted)."""
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self._fields(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    found.extend(self._fields(fragment.selection_set, seen | {name}))
        return found

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _size(self, node: FieldNode) -> int:
        sizes = [self._argument(node, name) for name in ("first", "last")]
        numbers = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        return max([0, *numbers])

    # -- requested ---------------------------------------------------------------------------

    def requested(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        mutation = operation.operation == OperationType.MUTATION
        total = 0
        for node in self._fields(operation.selection_set):
            cost = self._field(root, node)
            total += cost + (MUTATION_COST - 1 if mutation and cost else 0)
        return total

    def _field(self, parent: Any, node: FieldNode) -> int:
        name = node.name.value
        if name.startswith("__") or not hasattr(parent, "fields") or name not in parent.fields:
            return 0
        field_type = parent.fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            return CONNECTION_COST + self._size(node) * self._connection_item(named, node)
        children = self._children(named, node.selection_set)
        if _is_list(field_type):
            first = self._argument(node, "first")
            count = first if isinstance(first, int) and not isinstance(first, bool) and first >= 0 else 1
            return count * (1 + children)
        return 1 + children

    def _children(self, named: Any, selection_set: SelectionSetNode | None) -> int:
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            possible = self.schema.get_possible_types(named)
            return max((self._children(kind, selection_set) for kind in possible), default=0)
        return sum(self._field(named, child) for child in self._fields(selection_set))

    def _connection_item(self, connection: GraphQLObjectType, node: FieldNode) -> int:
        """The cost of one item: the fields selected on an edge's node (or in `nodes`)."""
        item_cost = 0
        for child in self._fields(node.selection_set):
            name = child.name.value
            if name == "nodes":
                item = get_named_type(connection.fields["nodes"].type)
                item_cost = max(item_cost, self._children(item, child.selection_set))
            elif name == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                for edge_child in self._fields(child.selection_set):
                    if edge_child.name.value == "node":
                        item = get_named_type(edge.fields["node"].type)
                        item_cost = max(item_cost, self._children(item, edge_child.selection_set))
        return item_cost

    # -- actual ------------------------------------------------------------------------------

    def actual(self, operation: OperationDefinitionNode, data: dict[str, Any] | None) -> int:
        if not data:
            return 0
        root = self.schema.get_root_type(operation.operation)
        mutation = operation.operation == OperationType.MUTATION
        total = 0
        for node in self._fields(operation.selection_set):
            key = node.alias.value if node.alias else node.name.value
            if key not in data:
                continue
            cost = self._actual_field(root, node, data[key])
            total += cost + (MUTATION_COST - 1 if mutation and cost else 0)
        return total

    def _actual_field(self, parent: Any, node: FieldNode, value: Any) -> int:
        name = node.name.value
        if name.startswith("__") or not hasattr(parent, "fields") or name not in parent.fields:
            return 0
        field_type = parent.fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        if value is None:
            return 1
        if named.name.endswith("Connection"):
            items = _connection_items(value)
            item_type = get_named_type(named.fields["nodes"].type)
            item_nodes = self._item_selections(node)
            return CONNECTION_COST + sum(
                self._actual_children(item_type, item_nodes, item) for item in items if isinstance(item, dict)
            )
        if isinstance(value, list):
            return sum(1 + self._actual_children(named, self._fields(node.selection_set), item) for item in value)
        return 1 + self._actual_children(named, self._fields(node.selection_set), value)

    def _item_selections(self, node: FieldNode) -> list[FieldNode]:
        found: list[FieldNode] = []
        for child in self._fields(node.selection_set):
            if child.name.value == "nodes":
                found.extend(self._fields(child.selection_set))
            elif child.name.value == "edges":
                for edge_child in self._fields(child.selection_set):
                    if edge_child.name.value == "node":
                        found.extend(self._fields(edge_child.selection_set))
        return found

    def _actual_children(self, named: Any, nodes: list[FieldNode], value: Any) -> int:
        if not isinstance(value, dict):
            return 0
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            concrete = self.schema.get_type(value.get("__typename", "")) if "__typename" in value else None
            possible = [concrete] if concrete is not None else self.schema.get_possible_types(named)
            return max((self._actual_children(kind, nodes, value) for kind in possible), default=0)
        seen: set[str] = set()
        total = 0
        for child in nodes:
            key = child.alias.value if child.alias else child.name.value
            if key in seen or key not in value:
                continue
            seen.add(key)
            total += self._actual_field(named, child, value[key])
        return total


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def _connection_items(value: dict[str, Any]) -> list[Any]:
    """The items a connection answered (its nodes, or its edges' nodes), each counted once."""
    if isinstance(value.get("nodes"), list):
        nodes = value["nodes"]
        if isinstance(value.get("edges"), list):
            edge_nodes = [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
            merged = [_merge(a, b) for a, b in zip(nodes, edge_nodes, strict=False)] if edge_nodes else nodes
            return merged
        return nodes
    if isinstance(value.get("edges"), list):
        return [edge.get("node") for edge in value["edges"] if isinstance(edge, dict)]
    return []


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {**b, **a}
    return a if a is not None else b
