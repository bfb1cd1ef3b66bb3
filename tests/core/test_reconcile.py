"""Reconciling Cairn's datasets with a catalog export: reading the export, then comparing."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter

from cairn.core import catalog_export
from cairn.core.catalog_export import parse_catalog
from cairn.core.errors import ValidationFailed
from cairn.core.reconcile import (
    MAX_CANDIDATES,
    DuplicateGroup,
    Identity,
    KnownIdentity,
    ReconcileReport,
    Suggestion,
    UnidentifiedDataset,
    match_key,
    reconcile,
)

ORDERS = Identity(namespace="postgres://db:5432", name="sales.public.orders")
TX = Identity(namespace="s3://lake", name="raw/tx")


def ident(text: str) -> Identity:
    namespace, _, name = text.rpartition("|")
    return Identity(namespace=namespace, name=name)


def known(
    identity: Identity,
    *,
    datasets: list[str] | None = None,
    aliases: list[Identity] | None = None,
    referenced: bool = True,
) -> KnownIdentity:
    return KnownIdentity(
        identity=identity, datasets=datasets or [], aliases=aliases or [], referenced=referenced
    )


# ---------------------------------------------------------------------------------------------
# Identity and match keys


def test_identity_ref_and_hash() -> None:
    assert ORDERS.ref == "ol-dataset:postgres://db:5432/sales.public.orders"
    assert TX.ref == "ol-dataset:s3://lake/raw/tx"
    assert {TX, Identity(namespace="s3://lake", name="raw/tx")} == {TX}


@pytest.mark.parametrize(
    ("namespace", "name", "key"),
    [
        ("postgres://db:5432", "sales.public.orders", ("public", "orders")),
        ("postgres://db:5432", "public.orders", ("public", "orders")),
        ("s3://b", "x", ("b", "x")),
        ("hive://metastore", "b.x", ("b", "x")),
        ("S3://user:secret@Lake:9000", "Raw/TX/", ("raw", "tx")),
        ("s3://lake", "x", ("lake", "x")),
        ("gs://bucket", "a/b/c.parquet", ("b", "c.parquet")),
        ("abfss://raw@account.dfs.core.windows.net", "tx", ("raw", "tx")),
        ("wasbs://raw@account.blob.core.windows.net", "/tx/", ("raw", "tx")),
        ("hdfs://namenode:8020", "/warehouse/db/tx", ("db", "tx")),
        ("file", "/data/x.csv", ("data", "x.csv")),
        ("file:///", "data//x.csv", ("data", "x.csv")),
        ("kafka://broker:9092", "events", ("events",)),
        ("bigquery", "project.dataset.table", ("dataset", "table")),
        ("mysql://h:3306", "db/tbl", ("db", "tbl")),
    ],
)
def test_match_key(namespace: str, name: str, key: tuple[str, ...]) -> None:
    assert match_key(Identity(namespace=namespace, name=name)) == key


# ---------------------------------------------------------------------------------------------
# Reading catalog exports

EXPECTED = [ORDERS, TX]


def test_marquez_listing_uses_id_then_top_level_fields() -> None:
    listing = {
        "totalCount": 3,
        "datasets": [
            {
                "id": {"namespace": ORDERS.namespace, "name": ORDERS.name},
                "type": "DB_TABLE",
                "name": "ignored because id wins",
                "namespace": "ignored",
                "fields": [{"name": "id", "type": "INT"}],
                "facets": {},
            },
            {"namespace": TX.namespace, "name": TX.name, "sourceName": "lake"},
            {"id": {"namespace": TX.namespace, "name": TX.name}},
        ],
    }
    assert parse_catalog(json.dumps(listing), "export.json") == EXPECTED


def test_json_array_of_objects_and_of_strings() -> None:
    objects = [{"namespace": o.namespace, "name": o.name, "x": 1} for o in EXPECTED]
    assert parse_catalog(json.dumps(objects), "catalog.json") == EXPECTED
    strings = ["postgres://db:5432/sales.public.orders", "ol-dataset:s3://lake/raw/tx"]
    assert parse_catalog(json.dumps(strings), "catalog.json") == EXPECTED
    assert parse_catalog("[]", "catalog.json") == []


def test_json_lines_decided_by_content_not_extension() -> None:
    lines = "\n".join(
        json.dumps({"namespace": o.namespace, "name": o.name, "facets": {}}) for o in EXPECTED
    )
    text = lines + "\n\n" + json.dumps({"id": {"namespace": TX.namespace, "name": TX.name}})
    assert parse_catalog(text, "catalog.jsonl") == EXPECTED
    assert parse_catalog(text, "export.csv") == EXPECTED
    # One line is a whole JSON document and still one entry.
    single = json.dumps({"namespace": TX.namespace, "name": TX.name})
    assert parse_catalog(single, "one.jsonl") == [TX]


def test_json_lines_of_listing_pages() -> None:
    page = {"datasets": [{"namespace": ORDERS.namespace, "name": ORDERS.name}], "totalCount": 2}
    other = {"datasets": [{"namespace": TX.namespace, "name": TX.name}], "totalCount": 2}
    text = json.dumps(page) + "\n" + json.dumps(other)
    assert parse_catalog(text, "pages.jsonl") == EXPECTED


def test_csv_namespace_and_name_columns() -> None:
    text = (
        "\ufeffType,Namespace,NAME,owner\n"
        f"table,{ORDERS.namespace},{ORDERS.name},ana\n"
        "\n"
        f'files, {TX.namespace} ,"{TX.name}",\n'
        f"files,{TX.namespace},{TX.name},bo\n"
    )
    assert parse_catalog(text, "catalog.csv") == EXPECTED


def test_csv_single_identity_column() -> None:
    text = "identity\npostgres://db:5432/sales.public.orders\ns3://lake/raw/tx\n"
    assert parse_catalog(text, "catalog.csv") == EXPECTED
    text = "Dataset;owner\npostgres://db:5432/sales.public.orders;ana\ns3://lake/raw/tx;bo\n"
    assert parse_catalog(text, "catalog.txt") == EXPECTED


def test_tab_separated() -> None:
    text = f"namespace\tname\n{ORDERS.namespace}\t{ORDERS.name}\n{TX.namespace}\t{TX.name}\n"
    assert parse_catalog(text, "catalog.tsv") == EXPECTED


@pytest.mark.parametrize(
    ("text", "filename", "message"),
    [
        (
            "namespace,name\ns3://a,x\ns3://a,y\ns3://a,\n",
            "catalog.csv",
            "catalog.csv row 4: no name",
        ),
        (
            "namespace,name\ns3://a,x\n,y\n",
            "catalog.csv",
            "catalog.csv row 3: no namespace",
        ),
        (
            "identity\ns3://a/x\njust-a-word\n",
            "catalog.csv",
            "catalog.csv row 3: 'just-a-word' is not 'namespace/name'",
        ),
        ("owner,team\nana,risk\n", "catalog.csv", "catalog.csv row 1: the header names no"),
        (
            '{"datasets": [{"namespace": "s3://a", "name": "x"}, {"namespace": "s3://a"}]}',
            "export.json",
            "export.json datasets[1]: no name",
        ),
        (
            '{"datasets": [{"id": "s3://a/x"}]}',
            "export.json",
            "export.json datasets[0]: id is a string, not an object",
        ),
        ('{"datasets": {"a": 1}}', "export.json", "export.json: datasets is an object"),
        ('["s3://a/x", 7]', "c.json", "c.json [1]: an entry is an object or a"),
        ('[{"namespace": "s3://a", "name": 5}]', "c.json", "c.json [0]: name is a number"),
        ('[{"namespace": "s3://a", "name": "x\\u0000"}]', "c.json", "c.json [0]: name holds a NUL"),
        (
            '[{"namespace": "s3://a", "name": "' + "x" * 1001 + '"}]',
            "c.json",
            "c.json [0]: name is longer than 1000",
        ),
        (
            '{"namespace": "s3://a", "name": "x"}\n{"namespace": "s3://a"}\n',
            "c.jsonl",
            "c.jsonl line 2: no name",
        ),
        (
            '{"namespace": "s3://a", "name": "x"}\n{"namespace": \n',
            "c.jsonl",
            "c.jsonl line 2: not valid JSON",
        ),
        ('[\n  {"namespace": "s3://a",\n  "name" "x"}\n]', "c.csv", "c.csv line 3 column 10"),
        ("namespace,name\n", "c.json", "c.json line 1 column 1: not valid JSON"),
        ('"s3://a/x"', "c.json", "c.json holds a string"),
        ('{"totalCount": 0}', "c.json", "c.json holds an object without a datasets array"),
        ("", "c.json", "c.json is empty"),
        (" \n", "c.csv", "c.csv is empty"),
    ],
)
def test_bad_files_are_refused_with_where(text: str, filename: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_catalog(text, filename)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.field == "file"
    assert info.value.rule == "catalog"
    assert info.value.details["hint"]


def test_too_many_entries_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_export, "MAX_CATALOG_ENTRIES", 3)
    ok = "\n".join(["identity"] + [f"s3://a/{i}" for i in range(3)])
    assert len(parse_catalog(ok, "c.csv")) == 3
    with pytest.raises(ValidationFailed, match="more than 3 entries"):
        parse_catalog(ok + "\ns3://a/x", "c.csv")


# ---------------------------------------------------------------------------------------------
# Reconciling


def test_clean_when_both_sides_agree() -> None:
    report = reconcile(
        [known(ORDERS, datasets=["dataset:sales/orders"]), known(TX, referenced=True)],
        [],
        [TX, ORDERS],
    )
    assert report == ReconcileReport(
        catalog=2,
        known=2,
        matched=2,
        missing_in_catalog=[],
        unresolved=[],
        missing_in_cairn=[],
        unidentified=[],
        duplicates=[],
        suggestions=[],
    )
    assert report.clean
    assert report.model_dump()["clean"] is True


def test_matched_through_an_alias() -> None:
    hive = ident("hive://metastore|lake.tx")
    report = reconcile([known(TX, datasets=["dataset:fraud/tx"], aliases=[hive])], [], [hive])
    assert report.matched == 1
    assert report.missing_in_catalog == []
    # The catalog entry is Cairn's alias, so Cairn names it.
    assert report.missing_in_cairn == []
    assert report.clean


def test_missing_on_either_side_and_unresolved() -> None:
    claimed = ident("postgres://db:5432|crm.customers")
    lineage_only = ident("kafka://broker:9092|events")
    idle = ident("kafka://broker:9092|old-topic")
    outside = ident("snowflake://acct|wh.marts.revenue")
    report = reconcile(
        [
            known(ORDERS, datasets=["dataset:sales/orders"]),
            known(claimed, datasets=["dataset:crm/customers", "dataset:crm/customers-eu"]),
            known(lineage_only, referenced=True),
            known(idle, referenced=False),
        ],
        [],
        [ORDERS, outside],
    )
    assert (report.catalog, report.known, report.matched) == (2, 4, 1)
    assert report.missing_in_catalog == [claimed.ref]
    assert report.unresolved == [lineage_only.ref]
    assert report.missing_in_cairn == [outside.ref]
    assert report.suggestions == []
    assert not report.clean


def test_three_part_name_suggested_for_two_part_name() -> None:
    two_part = ident("postgres://db:5432|public.orders")
    report = reconcile([known(two_part, datasets=["dataset:sales/orders"])], [], [ORDERS])
    assert report.missing_in_catalog == [two_part.ref]
    assert report.missing_in_cairn == [ORDERS.ref]
    assert report.suggestions == [
        Suggestion(
            identity=two_part.ref,
            suggested=ORDERS.ref,
            reason="names end in the same parts: public.orders",
            command=f"cairn lineage alias {ORDERS.ref} {two_part.ref}",
        )
    ]


def test_object_store_path_suggested_for_metastore_table() -> None:
    files = ident("s3://b|x")
    table = ident("hive://metastore|b.x")
    report = reconcile([known(table, referenced=True)], [], [files])
    assert report.unresolved == [table.ref]
    [suggestion] = report.suggestions
    assert (suggestion.identity, suggestion.suggested) == (table.ref, files.ref)
    assert suggestion.reason == "names end in the same parts: b.x"
    assert (
        suggestion.command
        == "cairn lineage alias ol-dataset:s3://b/x ol-dataset:hive://metastore/b.x"
    )


def test_case_only_difference_comes_first() -> None:
    mine = ident("postgres://db:5432|Sales.Public.Orders")
    two_part = ident("postgres://db:5432|public.orders")
    report = reconcile([known(mine, datasets=["dataset:sales/orders"])], [], [two_part, ORDERS])
    assert [(s.suggested, s.reason) for s in report.suggestions] == [
        (ORDERS.ref, "same identity but for case"),
        (two_part.ref, "names end in the same parts: public.orders"),
    ]


def test_suggestion_through_an_alias_key() -> None:
    alias = ident("hive://metastore|lake.raw_tx")
    catalog_entry = ident("s3://lake|raw_tx")
    report = reconcile(
        [known(TX, datasets=["dataset:fraud/tx"], aliases=[alias])], [], [catalog_entry]
    )
    [suggestion] = report.suggestions
    assert suggestion.suggested == catalog_entry.ref
    assert (
        suggestion.reason
        == f"names end in the same parts: lake.raw_tx (through its alias {alias.ref})"
    )


def test_matched_entries_are_not_suggested() -> None:
    # The catalog entry already matches another Cairn identity: no alias is offered for it.
    two_part = ident("postgres://db:5432|public.orders")
    report = reconcile([known(ORDERS, datasets=["dataset:a/b"]), known(two_part)], [], [ORDERS])
    assert report.unresolved == [two_part.ref]
    assert report.suggestions == []


def test_a_key_shared_by_many_catalog_entries_suggests_nothing() -> None:
    mine = ident("hive://metastore|dt=1.part-0")
    crowd = [ident(f"s3://b{i}|t/dt=1/part-0") for i in range(MAX_CANDIDATES + 1)]
    report = reconcile([known(mine)], [], crowd)
    assert report.suggestions == []
    # A name equal but for case is still found in a crowd.
    twin = ident("HIVE://metastore|DT=1.Part-0")
    [suggestion] = reconcile([known(mine)], [], [*crowd, twin]).suggestions
    assert (suggestion.suggested, suggestion.reason) == (twin.ref, "same identity but for case")
    few = reconcile([known(mine)], [], crowd[:2])
    assert len(few.suggestions) == 2


def test_duplicates_on_each_side() -> None:
    three_part = ident("postgres://db:5432|sales.public.orders")
    two_part = ident("postgres://db2:5432|public.orders")
    files = ident("s3://b|x")
    table = ident("hive://metastore|b.x")
    report = reconcile(
        [known(three_part, datasets=["dataset:a/b"]), known(two_part, datasets=["dataset:a/c"])],
        [],
        [three_part, two_part, files, table],
    )
    assert report.duplicates == [
        DuplicateGroup(
            side="cairn", key="public.orders", identities=sorted([three_part.ref, two_part.ref])
        ),
        DuplicateGroup(side="catalog", key="b.x", identities=[table.ref, files.ref]),
        DuplicateGroup(
            side="catalog", key="public.orders", identities=sorted([three_part.ref, two_part.ref])
        ),
    ]
    assert report.missing_in_cairn == [table.ref, files.ref]
    assert not report.clean


def test_aliases_are_not_duplicates_of_their_canonical() -> None:
    table = ident("hive://metastore|b.x")
    files = ident("s3://b|x")
    report = reconcile(
        [known(files, datasets=["dataset:a/b"], aliases=[table])], [], [files, table]
    )
    assert report.duplicates == []
    assert report.clean


def test_a_cairn_duplicate_through_an_alias_is_reported_once() -> None:
    # Both canonical identities have keys b.x and c.x (one of them through an alias).
    one = ident("s3://b|x")
    other = ident("hive://metastore|b.x")
    report = reconcile(
        [
            known(one, datasets=["dataset:a/b"], aliases=[ident("s3://c|x")]),
            known(other, datasets=["dataset:a/c"], aliases=[ident("hive://metastore|c.x")]),
        ],
        [],
        [one, other],
    )
    cairn_groups = [group for group in report.duplicates if group.side == "cairn"]
    assert cairn_groups == [
        DuplicateGroup(side="cairn", key="b.x", identities=[other.ref, one.ref])
    ]


def test_unidentified_dataset_whose_uri_names_a_catalog_entry() -> None:
    report = reconcile(
        [],
        [
            UnidentifiedDataset(dataset="dataset:fraud/tx", uri="s3://lake/raw/tx"),
            UnidentifiedDataset(dataset="dataset:fraud/tx-eu", uri="S3://Lake/raw/tx/"),
            UnidentifiedDataset(dataset="dataset:fraud/labels", uri=None),
            UnidentifiedDataset(dataset="dataset:fraud/odd", uri="not a uri"),
        ],
        [TX],
    )
    assert report.unidentified == [
        "dataset:fraud/labels",
        "dataset:fraud/odd",
        "dataset:fraud/tx",
        "dataset:fraud/tx-eu",
    ]
    assert report.missing_in_cairn == [TX.ref]
    assert report.suggestions == [
        Suggestion(
            identity="dataset:fraud/tx",
            suggested=TX.ref,
            reason="the dataset's URI names it",
            command="cairn dataset update fraud/tx --external-id openlineage=s3://lake/raw/tx",
        ),
        Suggestion(
            identity="dataset:fraud/tx-eu",
            suggested=TX.ref,
            reason="the dataset's URI ends in the same parts: raw.tx",
            command="cairn dataset update fraud/tx-eu --external-id openlineage=s3://lake/raw/tx",
        ),
    ]


def test_commands_quote_what_a_shell_would_split() -> None:
    mine = ident("file|/data/my orders.csv")
    theirs = ident("file|/DATA/My Orders.csv")
    [suggestion] = reconcile([known(mine)], [], [theirs]).suggestions
    assert suggestion.reason == "same identity but for case"
    assert suggestion.command == (
        "cairn lineage alias 'ol-dataset:file//DATA/My Orders.csv' "
        "'ol-dataset:file//data/my orders.csv'"
    )


def test_same_canonical_listed_twice_is_merged() -> None:
    report = reconcile([known(TX, datasets=["dataset:a/b"]), known(TX, referenced=False)], [], [])
    assert report.known == 1
    assert report.missing_in_catalog == [TX.ref]


def test_parsed_catalog_feeds_reconcile() -> None:
    text = "namespace,name\ns3://lake,raw/tx\npostgres://db:5432,sales.public.orders\n"
    report = reconcile([known(TX, datasets=["dataset:fraud/tx"])], [], parse_catalog(text, "c.csv"))
    assert report.matched == 1
    assert report.missing_in_cairn == [ORDERS.ref]


def test_a_hundred_thousand_entries_per_side() -> None:
    size = 100_000
    # Validated in one call, as a registry's answer would be: building each model on its own
    # takes longer than reconciling them.
    cairn = TypeAdapter(list[KnownIdentity]).validate_python(
        [
            {
                "identity": {"namespace": "postgres://db:5432", "name": f"sales.public.t{i}"},
                "datasets": [f"dataset:sales/t{i}"] if i % 2 else [],
                "aliases": [{"namespace": "hive://metastore", "name": f"public.t{i}"}]
                if i % 3
                else [],
                "referenced": True,
            }
            for i in range(size)
        ]
    )
    # Half the catalog names Cairn's identities (two thirds of those by alias); the other half
    # names the rest of them under another data source, which only a match key finds.
    catalog = TypeAdapter(list[Identity]).validate_python(
        [
            {"namespace": "hive://metastore", "name": f"public.t{i}"}
            if i % 3
            else {"namespace": "postgres://db:5432", "name": f"sales.public.t{i}"}
            for i in range(0, size, 2)
        ]
        + [{"namespace": "snowflake://acct", "name": f"wh.public.t{i}"} for i in range(1, size, 2)]
    )
    report = reconcile(cairn, [], catalog)
    assert (report.catalog, report.known, report.matched) == (size, size, size // 2)
    assert len(report.missing_in_catalog) == size // 2
    assert report.unresolved == []
    assert len(report.missing_in_cairn) == size // 2
    assert len(report.suggestions) == size // 2
    assert report.suggestions[0] == Suggestion(
        identity="ol-dataset:postgres://db:5432/sales.public.t1",
        suggested="ol-dataset:snowflake://acct/wh.public.t1",
        reason="names end in the same parts: public.t1",
        command="cairn lineage alias ol-dataset:snowflake://acct/wh.public.t1 "
        "ol-dataset:postgres://db:5432/sales.public.t1",
    )
    # An alias shares its canonical's key: no identity is a duplicate of another.
    assert report.duplicates == []
