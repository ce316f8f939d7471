//! Every case runs on the embedded store and on DynamoDB Local: the two adapters must be
//! indistinguishable to domain code.

use commerce_tests::{table_cases, TableBackend};
use serde_json::{json, Value};
use shared::clock::Clock;
use shared::store::{
    Comparison, Condition, Index, Item, Key, Query, SortKey, StoreError, TxOp, Update,
};
use std::sync::Arc;
use std::time::Duration;

fn item(value: Value) -> Item {
    value.as_object().expect("object").clone()
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect()
}

async fn put_and_get_round_trip_every_json_type(b: TableBackend) {
    let stored = item(json!({
        "pk": "T#a#P", "sk": "X", "entity": "thing", "version": 1,
        "text": "héllo ✓", "empty": "", "int": -42, "big": 9_007_199_254_740_993_i64,
        "yes": true, "no": false, "nothing": null,
        "list": [1, "two", {"three": 3}], "map": {"nested": {"deep": [true]}}
    }));
    b.table.put(stored.clone(), None).await.unwrap();
    let got = b.table.get(&key("T#a#P", "X")).await.unwrap().unwrap();
    assert_eq!(got, stored, "{}", b.name);
    assert_eq!(b.table.get(&key("T#a#P", "Y")).await.unwrap(), None);
    assert_eq!(b.table.get(&key("T#b#P", "X")).await.unwrap(), None);
}

async fn put_conditions(b: TableBackend) {
    let first = item(json!({"pk": "T#a#U", "sk": "EMAIL#x", "owner": "usr_1"}));
    b.table
        .put(first.clone(), Some(Condition::NotExists))
        .await
        .unwrap();
    let second = item(json!({"pk": "T#a#U", "sk": "EMAIL#x", "owner": "usr_2"}));
    let err = b
        .table
        .put(second, Some(Condition::NotExists))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    assert_eq!(
        b.table
            .get(&key("T#a#U", "EMAIL#x"))
            .await
            .unwrap()
            .unwrap(),
        first,
        "a failed put leaves the item as it was"
    );
    let err = b
        .table
        .put(
            item(json!({"pk": "T#a#U", "sk": "none"})),
            Some(Condition::Exists),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed));
    assert_eq!(b.table.get(&key("T#a#U", "none")).await.unwrap(), None);
}

async fn optimistic_versions(b: TableBackend) {
    let k = key("T#a#PROD#1", "PROD");
    b.table
        .put(
            item(json!({"pk": k.pk, "sk": k.sk, "version": 1, "title": "A"})),
            None,
        )
        .await
        .unwrap();
    let updated = b
        .table
        .update(
            &k,
            Update::new().set("title", "B").set("version", 2),
            Some(Condition::VersionIs(1)),
        )
        .await
        .unwrap();
    assert_eq!(updated["title"], "B");
    assert_eq!(updated["version"], 2);
    let stale = b
        .table
        .update(
            &k,
            Update::new().set("title", "C").set("version", 2),
            Some(Condition::VersionIs(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::ConditionFailed));
    assert_eq!(b.table.get(&k).await.unwrap().unwrap()["title"], "B");
}

async fn update_sets_removes_adds_and_creates(b: TableBackend) {
    let k = key("T#a#C", "COUNT");
    let created = b
        .table
        .update(&k, Update::new().set("name", "n").add("hits", 3), None)
        .await
        .unwrap();
    assert_eq!(created["hits"], 3);
    assert_eq!(created["pk"], "T#a#C");
    let next = b
        .table
        .update(
            &k,
            Update::new()
                .remove("name")
                .add("hits", -1)
                .set("flag", true),
            Some(Condition::Exists),
        )
        .await
        .unwrap();
    assert_eq!(next["hits"], 2);
    assert!(!next.contains_key("name"));
    assert_eq!(next["flag"], true);
    let missing = b
        .table
        .update(
            &key("T#a#C", "ABSENT"),
            Update::new().set("x", 1),
            Some(Condition::Exists),
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::ConditionFailed));
    assert_eq!(b.table.get(&key("T#a#C", "ABSENT")).await.unwrap(), None);
    let rekey = b
        .table
        .update(&k, Update::new().set("pk", "T#b#C"), None)
        .await
        .unwrap_err();
    assert!(matches!(rekey, StoreError::Invalid(_)), "{rekey:?}");
}

async fn delete_with_conditions(b: TableBackend) {
    let k = key("T#a#D", "1");
    b.table
        .put(item(json!({"pk": "T#a#D", "sk": "1", "version": 4})), None)
        .await
        .unwrap();
    let err = b
        .table
        .delete(&k, Some(Condition::VersionIs(3)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed));
    assert!(b.table.get(&k).await.unwrap().is_some());
    let old = b
        .table
        .delete(&k, Some(Condition::VersionIs(4)))
        .await
        .unwrap();
    assert_eq!(old.unwrap()["version"], 4);
    assert_eq!(b.table.get(&k).await.unwrap(), None);
    assert_eq!(b.table.delete(&k, None).await.unwrap(), None);
}

async fn atomic_add_with_floor(b: TableBackend) {
    let k = key("T#a#STOCK", "VAR#1");
    b.table
        .put(item(json!({"pk": k.pk, "sk": k.sk, "available": 10})), None)
        .await
        .unwrap();
    assert_eq!(b.table.add(&k, "available", -3, Some(0)).await.unwrap(), 7);
    let err = b.table.add(&k, "available", -8, Some(0)).await.unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed));
    assert_eq!(b.table.get(&k).await.unwrap().unwrap()["available"], 7);
    assert_eq!(b.table.add(&k, "available", -7, Some(0)).await.unwrap(), 0);
    assert_eq!(b.table.add(&k, "available", 5, None).await.unwrap(), 5);
}

async fn concurrent_guarded_decrements_never_oversell(b: TableBackend) {
    let k = key("T#a#STOCK", "VAR#hot");
    b.table
        .put(item(json!({"pk": k.pk, "sk": k.sk, "available": 10})), None)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let table = Arc::clone(&b.table);
            let k = k.clone();
            tokio::spawn(async move { table.add(&k, "available", -1, Some(0)).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 10, "{}", b.name);
    assert_eq!(b.table.get(&k).await.unwrap().unwrap()["available"], 0);
}

/// A counter that may not exist yet, capped by "absent, or below the limit".
fn capped(limit: i64) -> Condition {
    Condition::Any(vec![
        Condition::NotExists,
        Condition::Number {
            attr: "count".into(),
            cmp: Comparison::Lt,
            value: limit,
        },
    ])
}

async fn any_condition_caps_a_counter_that_may_not_exist(b: TableBackend) {
    let k = key("T#a#COUNTER", "CAPPED");
    for expected in 1..=3 {
        let after = b
            .table
            .update(&k, Update::new().add("count", 1), Some(capped(3)))
            .await
            .unwrap();
        assert_eq!(after["count"], expected, "{}", b.name);
    }
    let err = b
        .table
        .update(&k, Update::new().add("count", 1), Some(capped(3)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
    // Neither alternative holds for an existing item without the attribute.
    let bare = key("T#a#COUNTER", "BARE");
    b.table
        .put(item(json!({"pk": bare.pk, "sk": bare.sk})), None)
        .await
        .unwrap();
    let err = b
        .table
        .update(&bare, Update::new().add("count", 1), Some(capped(3)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
}

async fn concurrent_capped_transactions_never_pass_the_cap(b: TableBackend) {
    let k = key("T#a#COUNTER", "RACED");
    let tasks: Vec<_> = (0..30)
        .map(|n| {
            let table = Arc::clone(&b.table);
            let k = k.clone();
            tokio::spawn(async move {
                for attempt in 0..20 {
                    let result = table
                        .transact(vec![
                            TxOp::Update {
                                key: k.clone(),
                                update: Update::new().add("count", 1),
                                condition: Some(capped(5)),
                            },
                            TxOp::Put {
                                item: item(json!({"pk": "T#a#COUNTED", "sk": n.to_string()})),
                                condition: Some(Condition::NotExists),
                            },
                        ])
                        .await;
                    match result {
                        Err(StoreError::Conflict) => shared::store::back_off(attempt).await,
                        other => return other,
                    }
                }
                Err(StoreError::Conflict)
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(e) if e.failed_at(0) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 5, "{}", b.name);
    assert_eq!(b.table.get(&k).await.unwrap().unwrap()["count"], 5);
    let counted = b
        .table
        .query(&Query::partition(Index::Table, "T#a#COUNTED"))
        .await
        .unwrap();
    assert_eq!(counted.items.len(), 5);
}

async fn concurrent_creates_of_one_key_have_one_winner(b: TableBackend) {
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let table = Arc::clone(&b.table);
            tokio::spawn(async move {
                table
                    .put(
                        item(json!({"pk": "T#a#HANDLE", "sk": "shirt", "by": n})),
                        Some(Condition::NotExists),
                    )
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn seed_partition(b: &TableBackend, pk: &str) {
    let ops = (0..10)
        .map(|n| TxOp::Put {
            item: item(json!({"pk": pk, "sk": format!("ITEM#{n:02}"), "n": n})),
            condition: None,
        })
        .chain([TxOp::Put {
            item: item(json!({"pk": pk, "sk": "META", "n": -1})),
            condition: None,
        }])
        .collect();
    b.table.transact(ops).await.unwrap();
    b.table
        .put(item(json!({"pk": "T#other#Q", "sk": "ITEM#00"})), None)
        .await
        .unwrap();
}

async fn query_sort_key_conditions(b: TableBackend) {
    let pk = "T#a#Q";
    seed_partition(&b, pk).await;
    let run = |sk: SortKey| {
        let table = Arc::clone(&b.table);
        async move {
            sks(&table
                .query(&Query::partition(Index::Table, pk).sk(sk))
                .await
                .unwrap()
                .items)
        }
    };
    let all: Vec<String> = (0..10).map(|n| format!("ITEM#{n:02}")).collect();
    assert_eq!(run(SortKey::Any).await.len(), 11);
    assert_eq!(run(SortKey::Eq("ITEM#03".into())).await, vec!["ITEM#03"]);
    assert_eq!(run(SortKey::BeginsWith("ITEM#".into())).await, all);
    assert_eq!(
        run(SortKey::Between("ITEM#02".into(), "ITEM#04".into())).await,
        all[2..=4]
    );
    assert_eq!(run(SortKey::Lt("ITEM#02".into())).await, all[..2]);
    assert_eq!(run(SortKey::Le("ITEM#02".into())).await, all[..=2]);
    assert_eq!(
        run(SortKey::Gt("ITEM#08".into())).await,
        vec!["ITEM#09", "META"]
    );
    assert_eq!(
        run(SortKey::Ge("ITEM#09".into())).await,
        vec!["ITEM#09", "META"]
    );
    // A prefix with LIKE wildcards matches only itself.
    assert!(run(SortKey::BeginsWith("ITEM%".into())).await.is_empty());
    assert!(run(SortKey::BeginsWith("item#".into())).await.is_empty());

    let backward = b
        .table
        .query(
            &Query::partition(Index::Table, pk)
                .sk(SortKey::BeginsWith("ITEM#".into()))
                .backward()
                .limit(3),
        )
        .await
        .unwrap();
    assert_eq!(sks(&backward.items), vec!["ITEM#09", "ITEM#08", "ITEM#07"]);
    assert!(backward.last_key.is_some());
}

async fn query_pages_cover_every_item_once(b: TableBackend) {
    let pk = "T#a#Q";
    seed_partition(&b, pk).await;
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let mut query = Query::partition(Index::Table, pk)
                .sk(SortKey::BeginsWith("ITEM#".into()))
                .limit(4)
                .after(after.take());
            if !forward {
                query = query.backward();
            }
            let page = b.table.query(&query).await.unwrap();
            seen.extend(sks(&page.items));
            match page.last_key {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..10).map(|n| format!("ITEM#{n:02}")).collect();
        if !forward {
            expected.reverse();
        }
        assert_eq!(seen, expected, "forward={forward} on {}", b.name);
    }
}

async fn indexes_are_sparse_overloaded_and_paginated(b: TableBackend) {
    // Two entity kinds share gsi1 under different partitions; gsi2 holds a third view. Several
    // items share one index sort key, and pages still list each exactly once.
    let mut ops = Vec::new();
    for n in 0..7 {
        ops.push(TxOp::Put {
            item: item(json!({
                "pk": format!("T#a#PROD#{n}"), "sk": "PROD",
                "gsi1pk": "T#a#PRODUCTS", "gsi1sk": format!("STATUS#active#{}", n / 3),
                "gsi2pk": "T#a#BYTITLE", "gsi2sk": format!("title-{}", 9 - n),
            })),
            condition: None,
        });
    }
    ops.push(TxOp::Put {
        item: item(
            json!({"pk": "T#a#CUS#1", "sk": "CUS", "gsi1pk": "T#a#CUSTOMERS", "gsi1sk": "x"}),
        ),
        condition: None,
    });
    ops.push(TxOp::Put {
        item: item(json!({"pk": "T#a#PROD#draft", "sk": "PROD"})),
        condition: None,
    });
    b.table.transact(ops).await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = b
            .table
            .query(
                &Query::partition(Index::Gsi1, "T#a#PRODUCTS")
                    .sk(SortKey::BeginsWith("STATUS#active#".into()))
                    .limit(2)
                    .after(after.take()),
            )
            .await
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|i| i["pk"].as_str().unwrap().to_owned()),
        );
        match page.last_key {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    seen.sort();
    let expected: Vec<String> = (0..7).map(|n| format!("T#a#PROD#{n}")).collect();
    assert_eq!(seen, expected, "{}", b.name);

    let by_title = b
        .table
        .query(&Query::partition(Index::Gsi2, "T#a#BYTITLE").limit(3))
        .await
        .unwrap();
    assert_eq!(
        by_title
            .items
            .iter()
            .map(|i| i["gsi2sk"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["title-3", "title-4", "title-5"]
    );
    let customers = b
        .table
        .query(&Query::partition(Index::Gsi1, "T#a#CUSTOMERS"))
        .await
        .unwrap();
    assert_eq!(customers.items.len(), 1);
    assert!(customers.last_key.is_none());
}

async fn transactions_are_all_or_nothing(b: TableBackend) {
    b.table
        .put(
            item(json!({"pk": "T#a#H", "sk": "taken", "version": 1})),
            None,
        )
        .await
        .unwrap();
    b.table
        .put(
            item(json!({"pk": "T#a#S", "sk": "stock", "available": 1})),
            None,
        )
        .await
        .unwrap();
    let err = b
        .table
        .transact(vec![
            TxOp::Put {
                item: item(json!({"pk": "T#a#P", "sk": "new"})),
                condition: Some(Condition::NotExists),
            },
            TxOp::Update {
                key: key("T#a#S", "stock"),
                update: Update::new().add("available", -1),
                condition: Some(Condition::Number {
                    attr: "available".into(),
                    cmp: Comparison::Ge,
                    value: 1,
                }),
            },
            TxOp::Put {
                item: item(json!({"pk": "T#a#H", "sk": "taken"})),
                condition: Some(Condition::NotExists),
            },
        ])
        .await
        .unwrap_err();
    assert!(err.failed_at(2), "{err:?}");
    assert!(!err.failed_at(0) && !err.failed_at(1), "{err:?}");
    assert_eq!(b.table.get(&key("T#a#P", "new")).await.unwrap(), None);
    assert_eq!(
        b.table.get(&key("T#a#S", "stock")).await.unwrap().unwrap()["available"],
        1
    );

    // One item twice in a transaction is refused before anything is written.
    let twice = b
        .table
        .transact(vec![
            TxOp::Put {
                item: item(json!({"pk": "T#a#P", "sk": "new"})),
                condition: None,
            },
            TxOp::Update {
                key: key("T#a#S", "stock"),
                update: Update::new().add("available", -1),
                condition: None,
            },
            TxOp::Check {
                key: key("T#a#S", "stock"),
                condition: Condition::Exists,
            },
        ])
        .await
        .unwrap_err();
    assert!(matches!(twice, StoreError::Invalid(_)), "{twice:?}");
    assert_eq!(b.table.get(&key("T#a#P", "new")).await.unwrap(), None);
}

async fn transactions_commit_every_operation(b: TableBackend) {
    b.table
        .put(
            item(json!({"pk": "T#a#H", "sk": "old", "version": 1})),
            None,
        )
        .await
        .unwrap();
    b.table
        .put(
            item(json!({"pk": "T#a#S", "sk": "stock", "available": 2})),
            None,
        )
        .await
        .unwrap();
    b.table
        .transact(vec![
            TxOp::Put {
                item: item(json!({"pk": "T#a#P", "sk": "new"})),
                condition: Some(Condition::NotExists),
            },
            TxOp::Update {
                key: key("T#a#S", "stock"),
                update: Update::new().add("available", -2),
                condition: None,
            },
            TxOp::Delete {
                key: key("T#a#H", "old"),
                condition: Some(Condition::VersionIs(1)),
            },
            TxOp::Check {
                key: key("T#a#Z", "absent"),
                condition: Condition::NotExists,
            },
        ])
        .await
        .unwrap();
    assert!(b.table.get(&key("T#a#P", "new")).await.unwrap().is_some());
    assert_eq!(
        b.table.get(&key("T#a#S", "stock")).await.unwrap().unwrap()["available"],
        0
    );
    assert_eq!(b.table.get(&key("T#a#H", "old")).await.unwrap(), None);
}

async fn transaction_limits(b: TableBackend) {
    let ops = |n: usize| -> Vec<TxOp> {
        (0..n)
            .map(|i| TxOp::Put {
                item: item(json!({"pk": "T#a#BULK", "sk": format!("{i:03}")})),
                condition: None,
            })
            .collect()
    };
    let too_many = b.table.transact(ops(101)).await.unwrap_err();
    assert!(matches!(too_many, StoreError::Invalid(_)));
    b.table.transact(ops(100)).await.unwrap();
    let page = b
        .table
        .query(&Query::partition(Index::Table, "T#a#BULK").limit(1000))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 100);
    assert!(matches!(
        b.table.transact(Vec::new()).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
}

async fn expired_items_are_absent_from_reads(b: TableBackend) {
    let now = b.clock.now().unix_timestamp();
    for (sk, ttl) in [("short", now + 60), ("long", now + 3600)] {
        b.table
            .put(
                item(json!({"pk": "T#a#TTL", "sk": sk, "ttl": ttl, "gsi1pk": "T#a#TTLS", "gsi1sk": sk})),
                None,
            )
            .await
            .unwrap();
    }
    assert!(b
        .table
        .get(&key("T#a#TTL", "short"))
        .await
        .unwrap()
        .is_some());
    b.clock.advance(Duration::from_secs(120));
    assert_eq!(b.table.get(&key("T#a#TTL", "short")).await.unwrap(), None);
    let listed = b
        .table
        .query(&Query::partition(Index::Table, "T#a#TTL"))
        .await
        .unwrap();
    assert_eq!(sks(&listed.items), vec!["long"]);
    let indexed = b
        .table
        .query(&Query::partition(Index::Gsi1, "T#a#TTLS"))
        .await
        .unwrap();
    assert_eq!(sks(&indexed.items), vec!["long"]);
    let batch = b
        .table
        .batch_get(&[key("T#a#TTL", "short"), key("T#a#TTL", "long")])
        .await
        .unwrap();
    assert_eq!(sks(&batch), vec!["long"]);

    // An expired lease may be taken over; a live one may not.
    let now = b.clock.now().unix_timestamp();
    b.table
        .put(
            item(json!({"pk": "T#a#TTL", "sk": "short", "ttl": now + 60})),
            Some(Condition::AbsentOrExpired { now }),
        )
        .await
        .unwrap();
    let live = b
        .table
        .put(
            item(json!({"pk": "T#a#TTL", "sk": "long"})),
            Some(Condition::AbsentOrExpired { now }),
        )
        .await
        .unwrap_err();
    assert!(matches!(live, StoreError::ConditionFailed));
}

async fn batch_get_returns_present_items(b: TableBackend) {
    for n in 0..5 {
        b.table
            .put(item(json!({"pk": "T#a#B", "sk": format!("{n}")})), None)
            .await
            .unwrap();
    }
    let mut got = sks(&b
        .table
        .batch_get(&[
            key("T#a#B", "1"),
            key("T#a#B", "3"),
            key("T#a#B", "1"),
            key("T#a#B", "9"),
            key("T#b#B", "1"),
        ])
        .await
        .unwrap());
    got.sort();
    assert_eq!(got, vec!["1", "3"], "each item once, even when asked twice");
    assert!(b.table.batch_get(&[]).await.unwrap().is_empty());
    let too_many: Vec<Key> = (0..101).map(|n| key("T#a#B", &n.to_string())).collect();
    assert!(matches!(
        b.table.batch_get(&too_many).await.unwrap_err(),
        StoreError::Invalid(_)
    ));
}

table_cases!(
    put_and_get_round_trip_every_json_type,
    put_conditions,
    optimistic_versions,
    update_sets_removes_adds_and_creates,
    delete_with_conditions,
    atomic_add_with_floor,
    concurrent_guarded_decrements_never_oversell,
    concurrent_creates_of_one_key_have_one_winner,
    any_condition_caps_a_counter_that_may_not_exist,
    concurrent_capped_transactions_never_pass_the_cap,
    query_sort_key_conditions,
    query_pages_cover_every_item_once,
    indexes_are_sparse_overloaded_and_paginated,
    transactions_are_all_or_nothing,
    transactions_commit_every_operation,
    transaction_limits,
    expired_items_are_absent_from_reads,
    batch_get_returns_present_items,
);
