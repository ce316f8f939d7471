//! Collections (manual and automated) and the category and collection listings, on every
//! backend: placing and ordering products, automated membership through the event dispatcher and
//! the collections worker, the storefront's collection pages, and category pages that read only
//! what they show.

use super::inventory::{shop, Shop};
use commerce_tests::api::{Api, Call, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};
use shared::catalog::collections::worker::WORKER;

fn store(shop: &Shop, call: Call) -> Call {
    call.header("x-api-key", &shop.key)
}

async fn product(api: &Api, shop: &Shop, body: Value) -> String {
    let r = api
        .send(shop.admin(api.post("/admin/products")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// An active product with a priced variant.
async fn priced(api: &Api, shop: &Shop, title: &str, extra: Value, price: i64) -> String {
    let mut body = json!({"title": title, "status": "active"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let id = product(api, shop, body).await;
    let v = api
        .send(
            shop.admin(api.post(&format!("/admin/products/{id}/variants")))
                .json(json!({"price": {"amount": price, "currency": "EUR"}})),
        )
        .await;
    assert_eq!(v.status, 201, "{:?}", v.body);
    id
}

async fn collection(api: &Api, shop: &Shop, body: Value) -> Value {
    let r = api
        .send(shop.admin(api.post("/admin/collections")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

async fn place(api: &Api, shop: &Shop, col: &str, body: Value) -> Response {
    api.send(
        shop.admin(api.post(&format!("/admin/collections/{col}/products")))
            .json(body),
    )
    .await
}

fn ids(products: &Value) -> Vec<String> {
    products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The product ids of a storefront collection page.
async fn shown(api: &Api, shop: &Shop, handle: &str) -> Vec<String> {
    let r = api
        .send(store(
            shop,
            api.get(&format!("/store/collections/{handle}")),
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    ids(&r.body["products"])
}

async fn patch(api: &Api, shop: &Shop, path: &str, body: Value) -> Response {
    let r = api.send(shop.admin(api.patch(path)).json(body)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r
}

async fn a_manual_collection_keeps_its_order(api: Api) {
    let a = shop(&api, "acme").await;
    let tee = priced(&api, &a, "Tee", json!({}), 1500).await;
    let cap = priced(&api, &a, "Cap", json!({}), 900).await;
    let bag = priced(&api, &a, "Bag", json!({}), 4000).await;
    let draft = product(&api, &a, json!({"title": "Secret"})).await;
    let c = collection(
        &api,
        &a,
        json!({"title": "Summer Picks", "description": "Sunny", "image": {"url": "https://cdn.example.com/s.jpg", "alt": "Beach"}}),
    )
    .await;
    assert_eq!(
        (&c["handle"], &c["sort_order"], &c["state"]),
        (&json!("summer-picks"), &json!("manual"), &json!("ready"))
    );
    let col = c["id"].as_str().unwrap();

    let r = place(&api, &a, col, json!({"product_ids": [tee, cap]})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = place(&api, &a, col, json!({"product_ids": [bag], "position": 0})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        shown(&api, &a, "summer-picks").await,
        [bag.as_str(), tee.as_str(), cap.as_str()]
    );
    // Moving one: the others keep their order.
    let r = place(&api, &a, col, json!({"product_ids": [cap], "position": 1})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        shown(&api, &a, "summer-picks").await,
        [bag.as_str(), cap.as_str(), tee.as_str()]
    );
    // Many moves to the front run out of gaps and renumber; the order holds.
    for _ in 0..2 {
        for id in [tee.as_str(), cap.as_str(), bag.as_str()] {
            let r = place(&api, &a, col, json!({"product_ids": [id], "position": 0})).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    }
    assert_eq!(
        shown(&api, &a, "summer-picks").await,
        [bag.as_str(), cap.as_str(), tee.as_str()]
    );

    // A draft is held but not shown; staff find it through the product list.
    assert_eq!(
        place(&api, &a, col, json!({"product_ids": [draft]}))
            .await
            .status,
        200
    );
    assert_eq!(shown(&api, &a, "summer-picks").await.len(), 3);
    let staff_view = api
        .send(a.admin(api.get(&format!("/admin/products?collection={col}"))))
        .await;
    assert_eq!(staff_view.body["data"].as_array().unwrap().len(), 4);

    // The same through the product listing, and other sorts.
    let r = api
        .send(store(
            &a,
            api.get("/store/products?collection=summer-picks"),
        ))
        .await;
    assert_eq!(
        ids(&r.body["data"]),
        [bag.as_str(), cap.as_str(), tee.as_str()]
    );
    let r = api
        .send(store(
            &a,
            api.get("/store/collections/summer-picks?sort=price"),
        ))
        .await;
    assert_eq!(
        ids(&r.body["products"]),
        [cap.as_str(), tee.as_str(), bag.as_str()]
    );
    assert_eq!(r.body["collection"]["title"], "Summer Picks");
    assert_eq!(r.body["collection"]["image"]["alt"], "Beach");
    // Paged, one query a page once the collections are cached.
    let (first, calls) = api
        .send_counted(store(
            &a,
            api.get("/store/collections/summer-picks?limit=2"),
        ))
        .await;
    assert_eq!(calls, 1);
    assert_eq!(ids(&first.body["products"]), [bag.as_str(), cap.as_str()]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = api
        .send(store(
            &a,
            api.get(&format!(
                "/store/collections/summer-picks?limit=2&cursor={cursor}"
            )),
        ))
        .await;
    assert_eq!(ids(&second.body["products"]), [tee.as_str()]);

    // A product change shows in the collection; a deleted product leaves it.
    patch(
        &api,
        &a,
        &format!("/admin/products/{tee}"),
        json!({"title": "Tee II"}),
    )
    .await;
    let r = api
        .send(store(&a, api.get("/store/collections/summer-picks")))
        .await;
    assert_eq!(r.body["products"][2]["title"], "Tee II");
    let gone = api
        .send(a.admin(api.delete(&format!("/admin/products/{bag}"))))
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        shown(&api, &a, "summer-picks").await,
        [cap.as_str(), tee.as_str()]
    );

    // Taken out, once.
    let path = format!("/admin/collections/{col}/products/{cap}");
    assert_eq!(api.send(a.admin(api.delete(&path))).await.status, 204);
    assert_eq!(api.send(a.admin(api.delete(&path))).await.status, 404);
    assert_eq!(shown(&api, &a, "summer-picks").await, [tee.as_str()]);

    // Listed for shoppers.
    let r = api.send(store(&a, api.get("/store/collections"))).await;
    assert_eq!(r.body["data"][0]["handle"], "summer-picks");
}

async fn collections_refuse_what_they_should(api: Api) {
    let a = shop(&api, "acme").await;
    let tee = priced(&api, &a, "Tee", json!({}), 1500).await;
    let c = collection(&api, &a, json!({"title": "Picks"})).await;
    let col = c["id"].as_str().unwrap();

    // Hostile and invalid input.
    for body in [
        json!({"title": ""}),
        json!({"title": "X", "handle": "Not A Handle"}),
        json!({"title": "X", "image": {"url": "javascript:alert(1)"}}),
        json!({"title": "X", "rules": {"match": "all", "rules": []}}),
        json!({"title": "X", "rules": {"match": "all", "rules": [{"field": "category", "value": "cat_nope"}]}}),
        json!({"title": "X", "rules": {"match": "all", "rules": [{"field": "attribute", "key": "NOT A KEY!!", "value": "x"}]}}),
        json!({"title": "X", "rules": {"match": "all", "rules": [{"field": "attribute", "key": "no_such_attr", "value": "x"}]}}),
        json!({"title": "X", "sort_order": "manual", "rules": {"match": "any", "rules": [{"field": "tag", "value": "a"}]}}),
        json!({"title": "X", "unknown": 1}),
    ] {
        let r = api
            .send(a.admin(api.post("/admin/collections")).json(body.clone()))
            .await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    let dup = api
        .send(
            a.admin(api.post("/admin/collections"))
                .json(json!({"title": "Picks"})),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "handle_taken"));
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/collections/{col}")))
                .json(
                    json!({"rules": {"match": "all", "rules": [{"field": "tag", "value": "x"}]}}),
                ),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);

    // Nothing placed when one product of the request is unknown.
    for body in [
        json!({"product_ids": []}),
        json!({"product_ids": [tee, "prod_01J00000000000000000000000"]}),
        json!({"product_ids": [tee, tee]}),
        json!({"product_ids": ["not-an-id"]}),
    ] {
        let r = place(&api, &a, col, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    assert!(shown(&api, &a, "picks").await.is_empty());

    // Another company sees nothing of it.
    let b = shop(&api, "bolt").await;
    for call in [
        api.get(&format!("/admin/collections/{col}")),
        api.patch(&format!("/admin/collections/{col}"))
            .json(json!({"title": "Mine"})),
        api.delete(&format!("/admin/collections/{col}")),
        api.post(&format!("/admin/collections/{col}/products"))
            .json(json!({"product_ids": [tee]})),
    ] {
        assert_eq!(api.send(b.admin(call)).await.status, 404);
    }
    let r = api
        .send(store(&b, api.get("/store/collections/picks")))
        .await;
    assert_eq!(r.status, 404);
    let r = api
        .send(store(&b, api.get("/store/products?collection=picks")))
        .await;
    assert_eq!(
        (r.status, r.body["data"].as_array().unwrap().len()),
        (200, 0)
    );

    // Missing permission, wrong token kind, a key without the scope.
    let reader = api.member_with(&a.staff, &a.id, &["products.read"]).await;
    let r = api
        .send(
            api.post("/admin/collections")
                .token(&reader)
                .json(json!({"title": "Nope"})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .send(api.get(&format!("/admin/collections/{col}")).token(&reader))
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .send(api.get("/admin/collections").header("x-api-key", &a.key))
        .await;
    assert_eq!(r.status, 401);
    let unscoped = api
        .send(
            a.admin(api.post("/admin/api-keys"))
                .json(json!({"name": "Info", "scopes": ["store.read"]})),
        )
        .await;
    let r = api
        .send(
            api.get("/store/collections")
                .header("x-api-key", unscoped.body["secret"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, 403);

    // A rule on a category deleted since never blocks an unrelated edit; editing the rules
    // must name one that exists. A select attribute's rule takes one of its values.
    let shelf = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Shelf"})),
        )
        .await;
    assert_eq!(shelf.status, 201, "{:?}", shelf.body);
    let shelf = shelf.body["id"].as_str().unwrap().to_owned();
    let material = api
        .send(a.admin(api.post("/admin/attributes")).json(
            json!({"key": "material", "label": "Material", "type": "select", "values": ["Wool", "Cotton"]}),
        ))
        .await;
    assert_eq!(material.status, 201, "{:?}", material.body);
    let ruled = collection(
        &api,
        &a,
        json!({"title": "Shelf wool", "rules": {"match": "any", "rules": [
            {"field": "category", "value": shelf},
            {"field": "attribute", "key": "material", "value": "Wool"}
        ]}}),
    )
    .await;
    let ruled = ruled["id"].as_str().unwrap().to_owned();
    let bad_value = api
        .send(a.admin(api.post("/admin/collections")).json(
            json!({"title": "Plastic", "rules": {"match": "any", "rules": [
                {"field": "attribute", "key": "material", "value": "Plastic"}
            ]}}),
        ))
        .await;
    assert_eq!(bad_value.status, 422, "{:?}", bad_value.body);
    let r = api
        .send(a.admin(api.delete(&format!("/admin/categories/{shelf}"))))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    patch(
        &api,
        &a,
        &format!("/admin/collections/{ruled}"),
        json!({"description": "Warm things"}),
    )
    .await;
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/collections/{ruled}")))
                .json(json!({"rules": {"match": "all", "rules": [{"field": "category", "value": shelf}]}})),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["code"], "unknown_category");
}

async fn automated_collections_follow_product_changes(api: Api) {
    let a = shop(&api, "acme").await;
    let on_sale = priced(&api, &a, "Sale Tee", json!({"tags": ["sale"]}), 1500).await;
    let plain = priced(
        &api,
        &a,
        "Plain Tee",
        json!({"product_type": "Shirt"}),
        2500,
    )
    .await;
    api.run_worker(&a.id, &WORKER).await;
    let c = collection(
        &api,
        &a,
        json!({"title": "On Sale", "rules": {"match": "all", "rules": [{"field": "tag", "value": "sale"}]}}),
    )
    .await;
    let col = c["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (&c["state"], &c["sort_order"]),
        (&json!("rebuilding"), &json!("newest"))
    );
    assert!(api.run_worker(&a.id, &WORKER).await > 0);
    let c = api
        .send(a.admin(api.get(&format!("/admin/collections/{col}"))))
        .await;
    assert_eq!(c.body["state"], "ready");
    assert_eq!(shown(&api, &a, "on-sale").await, [on_sale.as_str()]);

    // A tag added: the product joins after one dispatcher cycle; removed: it leaves.
    patch(
        &api,
        &a,
        &format!("/admin/products/{plain}"),
        json!({"tags": ["sale"]}),
    )
    .await;
    assert_eq!(
        shown(&api, &a, "on-sale").await,
        [on_sale.as_str()],
        "not at read time"
    );
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(
        shown(&api, &a, "on-sale").await,
        [plain.as_str(), on_sale.as_str()]
    );
    patch(
        &api,
        &a,
        &format!("/admin/products/{on_sale}"),
        json!({"tags": []}),
    )
    .await;
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(shown(&api, &a, "on-sale").await, [plain.as_str()]);

    // A manual placement is refused: the rules decide.
    let r = place(&api, &a, &col, json!({"product_ids": [on_sale]})).await;
    assert_eq!(r.status, 422);

    // New rules gather the products again: any of a type or a price above 2,000.
    let r = patch(
        &api,
        &a,
        &format!("/admin/collections/{col}"),
        json!({"rules": {"match": "any", "rules": [
            {"field": "product_type", "value": "shirt"},
            {"field": "price", "relation": "less_than", "value": 2000}
        ]}, "sort_order": "price"}),
    )
    .await;
    assert_eq!(r.body["state"], "rebuilding");
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(
        shown(&api, &a, "on-sale").await,
        [on_sale.as_str(), plain.as_str()]
    );
    let c = api
        .send(a.admin(api.get(&format!("/admin/collections/{col}"))))
        .await;
    assert_eq!(c.body["state"], "ready");

    // A delivery twice changes nothing more; deleting the collection empties it.
    assert_eq!(api.run_worker(&a.id, &WORKER).await, 0);
    let r = api
        .send(a.admin(api.delete(&format!("/admin/collections/{col}"))))
        .await;
    assert_eq!(r.status, 204);
    api.run_worker(&a.id, &WORKER).await;
    let held = api
        .send(a.admin(api.get(&format!("/admin/products?collection={col}"))))
        .await;
    assert_eq!(held.body["data"].as_array().unwrap().len(), 0);
    let r = api
        .send(store(&a, api.get("/store/collections/on-sale")))
        .await;
    assert_eq!(r.status, 404);
}

async fn category_pages_read_only_their_products(api: Api) {
    let a = shop(&api, "acme").await;
    let apparel = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Apparel"})),
        )
        .await;
    let apparel_id = apparel.body["id"].as_str().unwrap().to_owned();
    let tees = api
        .send(
            a.admin(api.post("/admin/categories"))
                .json(json!({"title": "Tees", "parent_id": apparel_id})),
        )
        .await;
    let tees_id = tees.body["id"].as_str().unwrap().to_owned();
    let mut in_tees = Vec::new();
    for i in 0..23 {
        in_tees.push(
            product(
                &api,
                &a,
                json!({"title": format!("Tee {i:02}"), "status": "active", "category_ids": [tees_id]}),
            )
            .await,
        );
    }
    product(
        &api,
        &a,
        json!({"title": "Draft Tee", "category_ids": [tees_id]}),
    )
    .await;
    // Newer products elsewhere come first in the company's listing.
    for i in 0..25 {
        product(
            &api,
            &a,
            json!({"title": format!("Mug {i:02}"), "status": "active"}),
        )
        .await;
    }
    // Warm the key and taxonomy caches, then one query a page.
    api.send(store(&a, api.get("/store/products?category=apparel")))
        .await;
    let (first, calls) = api
        .send_counted(store(
            &a,
            api.get("/store/products?category=apparel&limit=20"),
        ))
        .await;
    assert_eq!(calls, 1);
    assert_eq!(
        first.body["data"].as_array().unwrap().len(),
        20,
        "a full page"
    );
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = api
        .send(store(
            &a,
            api.get(&format!(
                "/store/products?category=apparel&limit=20&cursor={cursor}"
            )),
        ))
        .await;
    assert_eq!(second.body["data"].as_array().unwrap().len(), 3);
    let by_title = api
        .send(store(
            &a,
            api.get("/store/products?category=tees&sort=title&limit=3"),
        ))
        .await;
    let titles: Vec<&str> = by_title.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Tee 00", "Tee 01", "Tee 02"]);

    // A product moved out of the category, or no longer active, leaves its pages.
    patch(
        &api,
        &a,
        &format!("/admin/products/{}", in_tees[0]),
        json!({"category_ids": []}),
    )
    .await;
    patch(
        &api,
        &a,
        &format!("/admin/products/{}", in_tees[1]),
        json!({"status": "archived"}),
    )
    .await;
    let all = api
        .send(store(
            &a,
            api.get("/store/products?category=tees&limit=100"),
        ))
        .await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 21);
    let unknown = api
        .send(store(&a, api.get("/store/products?category=nope")))
        .await;
    assert_eq!(unknown.body["data"], json!([]));
}

/// A category moved under another parent takes its products' listings along, in the background;
/// products listed before these listings existed are listed again on request.
async fn listings_follow_category_moves_and_can_be_rebuilt(api: Api) {
    let a = shop(&api, "acme").await;
    let category = |title: &str, parent: Option<&str>| {
        let body = json!({"title": title, "parent_id": parent});
        let call = a.admin(api.post("/admin/categories")).json(body);
        async { api.send(call).await.body["id"].as_str().unwrap().to_owned() }
    };
    let apparel = category("Apparel", None).await;
    let sale = category("Sale", None).await;
    let tees = category("Tees", Some(&apparel)).await;
    let tee = product(
        &api,
        &a,
        json!({"title": "Tee", "status": "active", "category_ids": [tees]}),
    )
    .await;
    let listed = |query: &'static str| {
        let call = store(&a, api.get(&format!("/store/products?{query}")));
        async { ids(&api.send(call).await.body["data"]) }
    };
    assert_eq!(listed("category=apparel").await, [tee.as_str()]);
    patch(
        &api,
        &a,
        &format!("/admin/categories/{tees}"),
        json!({"parent_id": sale}),
    )
    .await;
    api.run_worker(&a.id, &WORKER).await;
    assert!(listed("category=apparel").await.is_empty());
    assert_eq!(listed("category=sale").await, [tee.as_str()]);
    assert_eq!(listed("category=tees").await, [tee.as_str()]);

    // A product as an earlier version left it: no storefront entries, no placements.
    let tenant = a.tenant();
    for partition in ["ACTIVE", &format!("CAT#{tees}"), &format!("CAT#{sale}")] {
        let pk = format!("T#{tenant}#PRODUCT_LIST#{partition}");
        let page = api
            .app
            .table
            .query(&shared::store::Query::partition(
                shared::store::Index::Table,
                pk,
            ))
            .await
            .unwrap();
        for item in page.items {
            let key = shared::store::Key::of(&item).unwrap();
            api.app.table.delete(&key, None).await.unwrap();
        }
    }
    let placements = shared::store::Key::new(format!("T#{tenant}#PRODUCT#{tee}"), "PLACEMENTS");
    api.app.table.delete(&placements, None).await.unwrap();
    assert!(listed("limit=5").await.is_empty());

    let viewer = api.member_with(&a.staff, &a.id, &["products.read"]).await;
    let r = api
        .send(api.post("/admin/listings/rebuild").token(&viewer))
        .await;
    assert_eq!(r.status, 403);
    let r = api.send(a.admin(api.post("/admin/listings/rebuild"))).await;
    assert_eq!(r.status, 202);
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(listed("limit=5").await, [tee.as_str()]);
    assert_eq!(listed("category=sale").await, [tee.as_str()]);
    // Done once: running it again changes nothing.
    let r = api.send(a.admin(api.post("/admin/listings/rebuild"))).await;
    assert_eq!(r.status, 202);
    api.run_worker(&a.id, &WORKER).await;
    assert_eq!(listed("limit=5").await, [tee.as_str()]);
}

api_cases!(
    listings_follow_category_moves_and_can_be_rebuilt,
    a_manual_collection_keeps_its_order,
    collections_refuse_what_they_should,
    automated_collections_follow_product_changes,
    category_pages_read_only_their_products,
);
