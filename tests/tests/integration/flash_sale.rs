//! Levels split into shards for flash sales: splitting and merging keep every unit, stock
//! changes and reservations work across shards, and a crowd of concurrent shoppers after one
//! variant buys every unit exactly once, on every backend (DynamoDB Local above all).

use super::availability::{on_page, product, settings, store};
use super::inventory::{adjust, location, reserve, shop, stock_at, Shop};
use commerce_tests::api::{Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::ids::{LocationId, VariantId};
use shared::inventory::errors::InventoryError;
use shared::inventory::model::{LocationStock, StoredLevel};
use shared::inventory::reservations::{self, Line};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn split(api: &Api, shop: &Shop, variant: &str, location: &str, shards: Value) -> Response {
    api.send(
        shop.admin(api.call_method("PUT", "/admin/inventory/shards"))
            .json(json!({"variant_id": variant, "location_id": location, "shards": shards})),
    )
    .await
}

/// The level's shards as stored.
async fn shards(api: &Api, shop: &Shop, variant: &str, location: &str) -> LocationStock {
    shared::inventory::store::stock(
        api.app.table.as_ref(),
        &shop.tenant(),
        &LocationId::parse(location).unwrap(),
        &VariantId::parse(variant).unwrap(),
    )
    .await
    .unwrap()
    .expect("a stored level")
}

fn units(stock: &LocationStock) -> Vec<(i64, i64, i64)> {
    stock
        .shards
        .iter()
        .map(|(s, _)| (s.on_hand, s.reserved, s.unreserved))
        .collect()
}

async fn reconciled(api: &Api, shop: &Shop, variant: &str) -> Vec<Value> {
    let report = api
        .send(shop.admin(api.get(&format!("/admin/inventory/{variant}/reconciliation"))))
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let rows = report.body["data"].as_array().unwrap().clone();
    for row in &rows {
        assert_eq!(row["drift"], false, "{row}");
    }
    rows
}

fn one(variant: &str) -> Line {
    Line {
        variant_id: VariantId::parse(variant).unwrap(),
        quantity: 1,
    }
}

async fn splitting_a_level_keeps_every_unit_and_merges_back(api: Api) {
    let a = shop(&api, "acme").await;
    let berlin = location(&api, &a, "Berlin", 2).await;
    let hamburg = location(&api, &a, "Hamburg", 1).await;
    let (handle, ids) = product(&api, &a, &[("M", json!({}))]).await;
    let variant = ids[0].clone();
    settings(&api, &a, json!({"show_stock_quantity": true})).await;
    assert_eq!(adjust(&api, &a, &variant, &berlin, 100).await.status, 201);

    // Split into four: the units not reserved are dealt out evenly, nothing else moves.
    let r = split(&api, &a, &variant, &berlin, json!(4)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["shards"], &r.body["on_hand"], &r.body["available"]),
        (&json!(4), &json!(100), &json!(100))
    );
    assert_eq!(
        units(&shards(&api, &a, &variant, &berlin).await),
        vec![(25, 0, 25); 4]
    );
    let level = stock_at(&api, &a, &variant, &berlin).await;
    assert_eq!(
        (&level["shards"], &level["on_hand"]),
        (&json!(4), &json!(100))
    );

    // A reservation larger than one shard takes from several; the storefront shows the rest.
    let held = reserve(
        &api,
        &a,
        "cart_big",
        &[super::inventory::line(&variant, 30)],
        600,
    )
    .await
    .unwrap();
    assert_eq!(held.iter().map(|l| l.quantity).sum::<i64>(), 30);
    assert!(held.len() >= 2, "{held:?}");
    assert!(held.iter().any(|l| l.shard != 0), "{held:?}");
    let level = stock_at(&api, &a, &variant, &berlin).await;
    assert_eq!(
        (&level["on_hand"], &level["reserved"], &level["available"]),
        (&json!(100), &json!(30), &json!(70))
    );
    let page = on_page(&api, &a, &handle, &ids).await;
    assert_eq!(page[0], json!({"status": "in_stock", "quantity": 70}));

    // Units taken come from the fullest shards, units received go to the emptiest; each change
    // writes one movement for the location with its exact units on hand after it.
    let damaged = api
        .send(
            a.admin(api.post("/admin/inventory/adjustments"))
                .json(json!({
                    "variant_id": variant, "location_id": berlin, "delta": -20, "reason": "damaged"
                })),
        )
        .await;
    assert_eq!(damaged.status, 201, "{:?}", damaged.body);
    assert_eq!(damaged.body["movement"]["on_hand_after"], 80);
    let stock = shards(&api, &a, &variant, &berlin).await;
    let free: Vec<i64> = stock.shards.iter().map(|(s, _)| s.unreserved).collect();
    assert_eq!(free.iter().sum::<i64>(), 50);
    assert!(
        free.iter().max().unwrap() - free.iter().min().unwrap() <= 25,
        "{free:?}"
    );
    assert!(stock.shards.iter().all(|(s, _)| s.unreserved >= 0));
    assert_eq!(adjust(&api, &a, &variant, &berlin, 7).await.status, 201);
    let level = stock_at(&api, &a, &variant, &berlin).await;
    assert_eq!(level["on_hand"], 87);

    // A count names the level's version (every shard's changes count) and sets the total.
    let stale = api
        .send(
            a.admin(api.call_method("PUT", "/admin/inventory/levels"))
                .header(
                    "if-match",
                    &format!("\"{}\"", level["version"].as_u64().unwrap() - 1),
                )
                .json(json!({"variant_id": variant, "location_id": berlin, "on_hand": 90})),
        )
        .await;
    assert_eq!(stale.status, 412, "{:?}", stale.body);
    let counted = api
        .send(
            a.admin(api.call_method("PUT", "/admin/inventory/levels"))
                .header("if-match", &format!("\"{}\"", level["version"]))
                .json(json!({"variant_id": variant, "location_id": berlin, "on_hand": 90})),
        )
        .await;
    assert_eq!(counted.status, 200, "{:?}", counted.body);
    assert_eq!(counted.body["level"]["on_hand"], 90);
    let moved = api
        .send(a.admin(api.post("/admin/inventory/transfers")).json(json!({
            "variant_id": variant, "from_location_id": berlin,
            "to_location_id": hamburg, "quantity": 10
        })))
        .await;
    assert_eq!(moved.status, 201, "{:?}", moved.body);
    assert_eq!(moved.body["from"]["level"]["on_hand"], 80);
    // More than the units not reserved cannot leave: reservations stay covered.
    let too_many = api
        .send(
            a.admin(api.post("/admin/inventory/adjustments"))
                .json(json!({
                    "variant_id": variant, "location_id": berlin, "delta": -51, "reason": "damaged"
                })),
        )
        .await;
    assert_eq!(too_many.status, 409, "{:?}", too_many.body);
    assert_eq!(too_many.body["code"], "insufficient_stock");
    reconciled(&api, &a, &variant).await;
    let listed = api
        .send(a.admin(api.get(&format!("/admin/inventory?location_id={berlin}"))))
        .await;
    assert_eq!(listed.status, 200);
    let rows = listed.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "a split level is listed once: {rows:?}");
    assert_eq!(
        (&rows[0]["on_hand"], &rows[0]["reserved"]),
        (&json!(80), &json!(30))
    );

    // Merging back cannot drop a shard that holds reservations; once they are gone it can.
    let busy = split(&api, &a, &variant, &berlin, json!(1)).await;
    assert_eq!(busy.status, 409, "{:?}", busy.body);
    assert_eq!(busy.body["code"], "shard_in_use");
    assert_eq!(shards(&api, &a, &variant, &berlin).await.shards.len(), 4);
    reservations::release(&api.app, &a.tenant(), "cart_big")
        .await
        .unwrap();
    let merged = split(&api, &a, &variant, &berlin, json!(1)).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(
        (
            &merged.body["shards"],
            &merged.body["on_hand"],
            &merged.body["available"]
        ),
        (&json!(1), &json!(80), &json!(80))
    );
    let (stored, _) = shared::inventory::store::levels_at(
        api.app.table.as_ref(),
        &a.tenant(),
        &LocationId::parse(&berlin).unwrap(),
        100,
        None,
    )
    .await
    .unwrap();
    assert_eq!(stored.len(), 1, "the other shards are gone: {stored:?}");
    // Berlin's 80 and the 10 moved to Hamburg.
    let page = on_page(&api, &a, &handle, &ids).await;
    assert_eq!(page[0], json!({"status": "in_stock", "quantity": 90}));
    reconciled(&api, &a, &variant).await;
    let kinds = api.event_kinds(&a.id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "stock.split").count(), 2);

    // Another company's staff, a member without the permission, a storefront key, and bad
    // input are all refused, and change nothing.
    let b = shop(&api, "bolt").await;
    let foreign = split(&api, &b, &variant, &berlin, json!(2)).await;
    assert_eq!(foreign.status, 422, "{:?}", foreign.body);
    assert_eq!(foreign.body["errors"][0]["code"], "unknown_variant");
    let reader = api.member_with(&a.staff, &a.id, &["inventory.read"]).await;
    let refused = api
        .send(
            api.call_method("PUT", "/admin/inventory/shards")
                .token(&reader)
                .json(json!({"variant_id": variant, "location_id": berlin, "shards": 2})),
        )
        .await;
    assert_eq!(refused.status, 403);
    let with_key = api
        .send(
            store(&a, api.call_method("PUT", "/admin/inventory/shards"))
                .json(json!({"variant_id": variant, "location_id": berlin, "shards": 2})),
        )
        .await;
    assert_eq!(with_key.status, 401);
    for shards in [
        json!(0),
        json!(17),
        json!(-1),
        json!(2.5),
        json!("4"),
        Value::Null,
    ] {
        let r = split(&api, &a, &variant, &berlin, shards.clone()).await;
        assert_eq!(r.status, 422, "{shards}: {:?}", r.body);
    }
    let unknown = split(&api, &a, &variant, "loc_nope", json!(2)).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(shards(&api, &a, &variant, &berlin).await.shards.len(), 1);
}

/// What a flash sale of `units` units split over `split` shards leaves after `shoppers`
/// concurrent shoppers each try to reserve one (retrying, as a storefront would, when the
/// answer is that the stock is busy), then check out.
struct Sale {
    sold: i64,
    refused: i64,
    retries: i64,
    elapsed: Duration,
    checkout_elapsed: Duration,
}

/// What a storefront retries: 409 (the stock is busy) and 503 (the store is unavailable; on
/// DynamoDB Local, a transaction that waited too long for an item's lock, which it applies
/// nowhere and which real DynamoDB answers as a conflict).
fn retryable(error: &InventoryError) -> bool {
    matches!(
        error,
        InventoryError::Busy | InventoryError::Store(shared::store::StoreError::Unavailable(_))
    )
}

async fn flash_sale(api: Api, split_into: u32, units: i64, shoppers: usize) -> Sale {
    let a = shop(&api, "drop").await;
    let warehouse = location(&api, &a, "Warehouse", 1).await;
    let (handle, ids) = product(&api, &a, &[("One size", json!({}))]).await;
    let variant = ids[0].clone();
    assert_eq!(
        adjust(&api, &a, &variant, &warehouse, units).await.status,
        201
    );
    if split_into > 1 {
        let r = split(&api, &a, &variant, &warehouse, json!(split_into)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let api = Arc::new(api);
    let _turn = commerce_tests::api::crowd().await;
    let started = Instant::now();
    let tasks: Vec<_> = (0..shoppers)
        .map(|i| {
            let (api, tenant, variant) = (api.clone(), a.tenant(), variant.clone());
            tokio::spawn(async move {
                let expires = api.app.clock.epoch_seconds() + 900;
                let holder = format!("cart_{i}");
                let mut retries = 0;
                loop {
                    match reservations::reserve(
                        &api.app,
                        &tenant,
                        &holder,
                        &[one(&variant)],
                        expires,
                    )
                    .await
                    {
                        Err(e) if retryable(&e) && retries < 50 => {
                            retries += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => return (holder, other, retries),
                    }
                }
            })
        })
        .collect();
    let mut buyers = Vec::new();
    let (mut refused, mut retries) = (0, 0);
    for task in tasks {
        let (holder, outcome, tries) = task.await.unwrap();
        retries += tries;
        match outcome {
            Ok(lines) => {
                assert_eq!(lines.iter().map(|l| l.quantity).sum::<i64>(), 1);
                buyers.push(holder);
            }
            Err(InventoryError::InsufficientStock { .. }) => refused += 1,
            Err(other) => panic!("a shopper was answered {other}"),
        }
    }
    let elapsed = started.elapsed();

    // Every unit is held exactly once: no shard gave more than it had, none is negative.
    assert_eq!(buyers.len() as i64, units.min(shoppers as i64));
    let stock = shards(&api, &a, &variant, &warehouse).await;
    assert_eq!(stock.shards.len() as u32, split_into);
    let total: StoredLevel = stock.total();
    assert_eq!(
        (total.on_hand, total.reserved, total.unreserved),
        (units, units, 0)
    );
    for (shard, _) in &stock.shards {
        assert!(shard.unreserved >= 0 && shard.reserved >= 0, "{shard:?}");
        assert_eq!(
            shard.unreserved,
            shard.on_hand - shard.reserved,
            "{shard:?}"
        );
    }
    let page = on_page(&api, &a, &handle, &ids).await;
    assert_eq!(page[0]["status"], "out_of_stock");

    // Every buyer checks out at once: every unit leaves stock with its sale.
    let checkouts_started = Instant::now();
    let checkouts: Vec<_> = buyers
        .iter()
        .map(|holder| {
            let (api, tenant, variant, holder) =
                (api.clone(), a.tenant(), variant.clone(), holder.clone());
            tokio::spawn(async move {
                let mut tries = 0;
                loop {
                    match reservations::commit(&api.app, &tenant, &holder, &[one(&variant)]).await {
                        Err(e) if retryable(&e) && tries < 50 => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => return other,
                    }
                }
            })
        })
        .collect();
    for checkout in checkouts {
        let sold = checkout.await.unwrap().expect("a buyer checks out");
        assert_eq!(sold.iter().map(|l| l.quantity).sum::<i64>(), 1);
    }
    let checkout_elapsed = checkouts_started.elapsed();
    let stock = shards(&api, &a, &variant, &warehouse).await.total();
    assert_eq!((stock.on_hand, stock.reserved), (0, 0));
    let rows = reconciled(&api, &a, &variant).await;
    assert_eq!(rows[0]["movements_sum"], 0);
    Sale {
        sold: buyers.len() as i64,
        refused,
        retries,
        elapsed,
        checkout_elapsed,
    }
}

fn report(label: &str, sale: &Sale) {
    eprintln!(
        "flash sale ({label}): {} sold, {} refused, {} busy retries, reservations took {:?} ({:.0}/s), checkouts {:?}",
        sale.sold,
        sale.refused,
        sale.retries,
        sale.elapsed,
        (sale.sold + sale.refused) as f64 / sale.elapsed.as_secs_f64(),
        sale.checkout_elapsed,
    );
}

/// On DynamoDB Local the same crowd on a level that is not split times out waiting for the
/// level's lock (an error real DynamoDB answers as a transaction conflict); split, every
/// shopper is served without a single retry.
async fn a_flash_sale_on_eight_shards_sells_every_unit_once(api: Api) {
    let sale = flash_sale(api, 8, 200, 320).await;
    assert_eq!((sale.sold, sale.refused), (200, 120));
    report("8 shards", &sale);
}

/// A level's version is the sum of its shards': merging shards back must not bring back a
/// version a client read earlier, or a count sent with that stale `If-Match` would win.
async fn a_merge_never_brings_back_a_version_read_before(api: Api) {
    let a = shop(&api, "merge-version").await;
    let warehouse = location(&api, &a, "Warehouse", 1).await;
    let (_, ids) = product(&api, &a, &[("One size", json!({}))]).await;
    let variant = ids[0].clone();
    assert_eq!(adjust(&api, &a, &variant, &warehouse, 10).await.status, 201);
    let r = split(&api, &a, &variant, &warehouse, json!(4)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let read = r.body["version"].as_u64().unwrap();
    let mut seen = vec![read];
    assert_eq!(adjust(&api, &a, &variant, &warehouse, -7).await.status, 201);
    let merged = split(&api, &a, &variant, &warehouse, json!(1)).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    assert_eq!(merged.body["on_hand"], 3);
    let after_merge = merged.body["version"].as_u64().unwrap();
    assert!(
        seen.iter().all(|v| after_merge > *v),
        "{after_merge} after {seen:?}"
    );
    seen.push(after_merge);
    for _ in 0..8 {
        let r = adjust(&api, &a, &variant, &warehouse, 1).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let level = stock_at(&api, &a, &variant, &warehouse).await;
        let now = level["version"].as_u64().unwrap();
        assert!(seen.iter().all(|v| now > *v), "{now} after {seen:?}");
        seen.push(now);
        // The count read before the merge is stale whatever happened since.
        let stale = api
            .send(
                a.admin(api.call_method("PUT", "/admin/inventory/levels"))
                    .header("if-match", &format!("\"{read}\""))
                    .json(json!({"variant_id": variant, "location_id": warehouse, "on_hand": 10})),
            )
            .await;
        assert_eq!(stale.status, 412, "{:?}", stale.body);
    }
    assert_eq!(
        stock_at(&api, &a, &variant, &warehouse).await["on_hand"],
        11
    );
}

api_cases!(
    a_merge_never_brings_back_a_version_read_before,
    splitting_a_level_keeps_every_unit_and_merges_back,
    a_flash_sale_on_eight_shards_sells_every_unit_once,
);
