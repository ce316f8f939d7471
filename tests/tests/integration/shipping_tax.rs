//! Shipping zones and the tax engine through the API, on every backend: the worked carts of
//! docs/shipping-and-tax.md, each to the unit; zones resolving to the most specific; a chosen
//! method that a change makes inapplicable; carrier rates from the settings' table; tax-exempt
//! customers and groups; and the admin routes checked, scoped and permission-guarded.

use super::inventory::Shop;
use commerce_tests::api::{Api, Response};
use commerce_tests::api_cases;
use serde_json::{json, Value};

const PASSWORD: &str = "plum-orbit-quiet-harbor-7";

/// A company in `country` selling in `currency`, with a storefront key that fills carts.
pub(crate) async fn company(
    api: &Api,
    handle: &str,
    country: &str,
    currency: &str,
) -> (Shop, String) {
    let r = api
        .send(api.post("/admin/auth/register").json(json!({
            "company": {"name": format!("{handle} Goods"), "handle": handle, "country": country, "currency": currency, "timezone": "Europe/Berlin"},
            "owner": {"name": "Ana Owner", "email": format!("ana@{handle}.example.com"), "password": PASSWORD}
        })))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let staff = r.body["access_token"].as_str().unwrap().to_owned();
    let key = api
        .send(api.post("/admin/api-keys").token(&staff).json(json!({
            "name": "Web",
            "scopes": ["store.read", "products.read", "carts.write", "customers.auth", "customers.write"]
        })))
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let key = key.body["secret"].as_str().unwrap().to_owned();
    let shop = Shop {
        id: r.body["company"]["id"].as_str().unwrap().to_owned(),
        staff,
        key: key.clone(),
    };
    (shop, key)
}

pub(crate) async fn settings(api: &Api, shop: &Shop, group: &str, body: Value) {
    let r = api
        .send(
            shop.admin(api.patch(&format!("/admin/settings/{group}")))
                .json(body),
        )
        .await;
    assert_eq!(r.status, 200, "{group}: {:?}", r.body);
}

pub(crate) async fn rate(api: &Api, shop: &Shop, body: Value) -> String {
    let r = api
        .send(shop.admin(api.post("/admin/tax/rates")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn zone(api: &Api, shop: &Shop, body: Value) -> Value {
    let r = api
        .send(shop.admin(api.post("/admin/shipping/zones")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

/// An active product whose variants (untracked: no stock needed) have these names, prices and
/// extra fields; answers the variant ids.
pub(crate) async fn variants(
    api: &Api,
    shop: &Shop,
    currency: &str,
    list: &[(&str, i64, Value)],
) -> Vec<String> {
    let names: Vec<&str> = list.iter().map(|(n, _, _)| *n).collect();
    let product = api
        .send(shop.admin(api.post("/admin/products")).json(json!({
            "title": format!("Goods {}", names.join(" ")),
            "status": "active",
            "options": [{"name": "Kind", "values": names}]
        })))
        .await;
    assert_eq!(product.status, 201, "{:?}", product.body);
    let id = product.body["id"].as_str().unwrap();
    let mut ids = Vec::new();
    for (name, price, extra) in list {
        let mut body = json!({
            "options": {"Kind": name},
            "price": {"amount": price, "currency": currency},
            "track_inventory": false
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let v = api
            .send(
                shop.admin(api.post(&format!("/admin/products/{id}/variants")))
                    .json(body),
            )
            .await;
        assert_eq!(v.status, 201, "{:?}", v.body);
        ids.push(v.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

pub(crate) async fn cart(api: &Api, key: &str, items: &[(&str, i64)]) -> String {
    let items: Vec<Value> = items
        .iter()
        .map(|(v, q)| json!({"variant_id": v, "quantity": q}))
        .collect();
    let r = api
        .send(
            api.post("/store/carts")
                .header("x-api-key", key)
                .json(json!({ "items": items })),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

pub(crate) fn address(country: &str, region: Option<&str>, postal_code: &str) -> Value {
    json!({
        "first_name": "Sam", "last_name": "Shopper", "line1": "Main Street 1", "city": "Town",
        "region": region, "postal_code": postal_code, "country": country
    })
}

pub(crate) async fn patch(api: &Api, key: &str, cart: &str, body: Value) -> Response {
    api.send(
        api.patch(&format!("/store/carts/{cart}"))
            .header("x-api-key", key)
            .json(body),
    )
    .await
}

pub(crate) async fn ship_to(api: &Api, key: &str, cart: &str, address: Value) -> Value {
    let r = patch(api, key, cart, json!({ "shipping_address": address })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

pub(crate) async fn get(api: &Api, key: &str, cart: &str) -> Value {
    let r = api
        .send(
            api.get(&format!("/store/carts/{cart}"))
                .header("x-api-key", key),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

pub(crate) async fn options(api: &Api, key: &str, cart: &str) -> Response {
    api.send(
        api.get(&format!("/store/carts/{cart}/shipping-options"))
            .header("x-api-key", key),
    )
    .await
}

pub(crate) async fn choose(api: &Api, key: &str, cart: &str, option: &str) -> Response {
    api.send(
        api.post(&format!("/store/carts/{cart}/shipping-method"))
            .header("x-api-key", key)
            .json(json!({ "option_id": option })),
    )
    .await
}

/// subtotal, shipping_total, tax_total, grand_total.
pub(crate) fn totals(cart: &Value) -> [i64; 4] {
    ["subtotal", "shipping_total", "tax_total", "grand_total"].map(|f| cart[f].as_i64().unwrap())
}

fn line_taxes(cart: &Value) -> Vec<i64> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["tax"].as_i64().unwrap())
        .collect()
}

/// The cart's tax lines as (name, amount).
fn tax_lines(cart: &Value) -> Vec<(String, i64)> {
    cart["tax_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_owned(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn named(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, a)| ((*n).to_owned(), *a)).collect()
}

// The worked carts ---------------------------------------------------------------------------

/// New York City: state 4 %, city 4.5 % and the transit district's 0.375 %, all on the price.
async fn new_york_adds_state_city_and_district_sales_tax(api: Api) {
    let (a, key) = company(&api, "nyc", "US", "USD").await;
    rate(
        &api,
        &a,
        json!({"name": "NY State", "country": "US", "region": "US-NY", "percentage": 4}),
    )
    .await;
    rate(&api, &a, json!({"name": "New York City", "country": "US", "region": "US-NY", "postcode": "10001-10292", "percentage": 4.5, "priority": 2})).await;
    rate(&api, &a, json!({"name": "MCTD", "country": "US", "region": "US-NY", "postcode": "100*", "percentage": 0.375, "priority": 3})).await;
    let v = variants(
        &api,
        &a,
        "USD",
        &[("Mug", 1999, json!({})), ("Cap", 500, json!({}))],
    )
    .await;
    let c = cart(&api, &key, &[(&v[0], 1), (&v[1], 2)]).await;
    // No address yet: no tax.
    assert_eq!(totals(&get(&api, &key, &c).await), [2999, 0, 0, 2999]);
    let priced = ship_to(&api, &key, &c, address("US", Some("NY"), "10001")).await;
    // 19.99: 0.80 + 0.90 + 0.07; 10.00: 0.40 + 0.45 + 0.04 (0.0375 rounds up).
    assert_eq!(line_taxes(&priced), [177, 89]);
    assert_eq!(totals(&priced), [2999, 0, 266, 3265]);
    assert_eq!(
        tax_lines(&priced),
        named(&[("NY State", 120), ("New York City", 135), ("MCTD", 11)])
    );
    // Upstate (Albany): the state rate alone.
    let upstate = ship_to(&api, &key, &c, address("US", Some("NY"), "12207")).await;
    assert_eq!(totals(&upstate), [2999, 0, 120, 3119]);
}

/// Germany, prices including VAT: 19 % on a jacket, 7 % on books; the same gross prices in
/// Austria carry Austria's 20 % and 10 %.
async fn german_prices_include_19_and_7_percent_vat(api: Api) {
    let (a, key) = company(&api, "berlin", "DE", "EUR").await;
    settings(&api, &a, "tax", json!({"prices_include_tax": true})).await;
    rate(
        &api,
        &a,
        json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "MwSt. 7 %", "country": "DE", "percentage": 7, "tax_class": "reduced"}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "USt. 20 %", "country": "AT", "percentage": 20}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "USt. 10 %", "country": "AT", "percentage": 10, "tax_class": "reduced"}),
    )
    .await;
    let v = variants(
        &api,
        &a,
        "EUR",
        &[
            ("Jacket", 11_900, json!({})),
            ("Book", 1_070, json!({"tax_class": "reduced"})),
        ],
    )
    .await;
    let c = cart(&api, &key, &[(&v[0], 1), (&v[1], 2)]).await;
    let priced = ship_to(&api, &key, &c, address("DE", None, "10115")).await;
    // 119.00 holds 19.00; 21.40 holds 1.40. The grand total is the prices.
    assert_eq!(line_taxes(&priced), [1_900, 140]);
    assert_eq!(totals(&priced), [14_040, 0, 2_040, 14_040]);
    assert_eq!(priced["prices_include_tax"], true);
    assert_eq!(
        tax_lines(&priced),
        named(&[("MwSt. 19 %", 1_900), ("MwSt. 7 %", 140)])
    );
    let vienna = ship_to(&api, &key, &c, address("AT", None, "1010")).await;
    // 119.00 / 1.2 = 99.17 net, 19.83 VAT; 21.40 / 1.1 = 19.45 net, 1.95 VAT.
    assert_eq!(line_taxes(&vienna), [1_983, 195]);
    assert_eq!(totals(&vienna), [14_040, 0, 2_178, 14_040]);
}

/// A French company selling to a German business with a German VAT number: reverse charge.
async fn a_german_business_buying_from_france_pays_no_vat(api: Api) {
    let (a, key) = company(&api, "paris", "FR", "EUR").await;
    settings(
        &api,
        &a,
        "shipping",
        json!({"origin": {"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "TVA 20 %", "country": "FR", "percentage": 20}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
    )
    .await;
    let v = variants(&api, &a, "EUR", &[("Lamp", 10_000, json!({}))]).await;
    let c = cart(&api, &key, &[(&v[0], 1)]).await;
    let consumer = ship_to(&api, &key, &c, address("DE", None, "10115")).await;
    assert_eq!(totals(&consumer), [10_000, 0, 1_900, 11_900]);
    assert_eq!(consumer["tax_exemption"], Value::Null);
    let bad = patch(&api, &key, &c, json!({"vat_number": "DE12345"})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["code"], "invalid_vat_number");
    let business = patch(&api, &key, &c, json!({"vat_number": "de 123 456 789"})).await;
    assert_eq!(business.status, 200, "{:?}", business.body);
    assert_eq!(business.body["vat_number"], "DE123456789");
    assert_eq!(totals(&business.body), [10_000, 0, 0, 10_000]);
    assert_eq!(business.body["tax_exemption"], "reverse_charge");
    assert_eq!(business.body["tax_lines"], json!([]));
    let note = business.body["items"][0]["tax_note"].as_str().unwrap();
    assert!(note.starts_with("Reverse charge"), "{note}");
    // At home, a French business pays French VAT.
    let home = patch(
        &api,
        &key,
        &c,
        json!({"vat_number": "FR12345678901", "shipping_address": address("FR", None, "75002")}),
    )
    .await;
    assert_eq!(totals(&home.body), [10_000, 0, 2_000, 12_000]);
    assert_eq!(home.body["tax_exemption"], Value::Null);
}

/// Quebec: GST 5 % and QST 9.975 % both on the price (no compounding since 2013); Ontario
/// pays the GST alone here.
async fn quebec_charges_gst_and_qst_on_the_same_price(api: Api) {
    let (a, key) = company(&api, "montreal", "CA", "CAD").await;
    rate(
        &api,
        &a,
        json!({"name": "GST", "country": "CA", "percentage": 5}),
    )
    .await;
    rate(&api, &a, json!({"name": "QST", "country": "CA", "region": "CA-QC", "percentage": 9.975, "priority": 2})).await;
    let v = variants(&api, &a, "CAD", &[("Toque", 10_000, json!({}))]).await;
    let c = cart(&api, &key, &[(&v[0], 1)]).await;
    let quebec = ship_to(&api, &key, &c, address("CA", Some("QC"), "H2X 1Y4")).await;
    assert_eq!(totals(&quebec), [10_000, 0, 1_498, 11_498]);
    assert_eq!(tax_lines(&quebec), named(&[("GST", 500), ("QST", 998)]));
    let toronto = ship_to(&api, &key, &c, address("CA", Some("ON"), "M5V 2T6")).await;
    assert_eq!(totals(&toronto), [10_000, 0, 500, 10_500]);
}

/// A compound rate: 10 % on the price and the 5 % before it (as Prince Edward Island charged
/// until 2013).
async fn a_compound_rate_taxes_the_tax_before_it(api: Api) {
    let (a, key) = company(&api, "charlottetown", "CA", "CAD").await;
    rate(
        &api,
        &a,
        json!({"name": "GST", "country": "CA", "percentage": 5}),
    )
    .await;
    rate(&api, &a, json!({"name": "PST", "country": "CA", "region": "CA-PE", "percentage": 10, "priority": 2, "compound": true})).await;
    let v = variants(
        &api,
        &a,
        "CAD",
        &[("Oysters", 10_000, json!({})), ("Salt", 333, json!({}))],
    )
    .await;
    let c = cart(&api, &key, &[(&v[0], 1), (&v[1], 3)]).await;
    let priced = ship_to(&api, &key, &c, address("CA", Some("PE"), "C1A 4P3")).await;
    // 100.00: 5.00, then 10 % of 105.00 = 10.50. 9.99: 0.4995 (0.50), then 10 % of 10.49 = 1.049 (1.05).
    assert_eq!(line_taxes(&priced), [1_550, 155]);
    assert_eq!(totals(&priced), [10_999, 0, 1_705, 12_704]);
    assert_eq!(tax_lines(&priced), named(&[("GST", 550), ("PST", 1_155)]));
}

/// Yen have no minor unit: Japan's 10 % and 8 % included in the price, to the yen.
async fn a_yen_cart_rounds_to_the_yen(api: Api) {
    let (a, key) = company(&api, "tokyo", "JP", "JPY").await;
    settings(&api, &a, "tax", json!({"prices_include_tax": true})).await;
    rate(
        &api,
        &a,
        json!({"name": "消費税 10%", "country": "JP", "percentage": 10}),
    )
    .await;
    rate(
        &api,
        &a,
        json!({"name": "消費税 8%", "country": "JP", "percentage": 8, "tax_class": "reduced"}),
    )
    .await;
    let v = variants(
        &api,
        &a,
        "JPY",
        &[
            ("Teapot", 1_980, json!({})),
            ("Tea", 1_080, json!({"tax_class": "reduced"})),
            ("Sweets", 999, json!({"tax_class": "reduced"})),
        ],
    )
    .await;
    let c = cart(&api, &key, &[(&v[0], 1), (&v[1], 1), (&v[2], 1)]).await;
    let priced = ship_to(&api, &key, &c, address("JP", None, "100-0001")).await;
    // 1,980 holds 180; 1,080 holds 80; 999 / 1.08 = 925.0 net, 74 tax.
    assert_eq!(line_taxes(&priced), [180, 80, 74]);
    assert_eq!(totals(&priced), [4_059, 0, 334, 4_059]);
}

/// Free standard shipping from 50.00.
async fn shipping_is_free_over_a_threshold(api: Api) {
    let (a, key) = company(&api, "hamburg", "DE", "EUR").await;
    zone(&api, &a, json!({"name": "Germany", "countries": ["DE"], "methods": [
        {"name": "Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 490}, "free_over": 5000, "delivery_days": {"min": 2, "max": 4}}
    ]})).await;
    let v = variants(&api, &a, "EUR", &[("Scarf", 2_499, json!({}))]).await;
    let c = cart(&api, &key, &[(&v[0], 2)]).await;
    ship_to(&api, &key, &c, address("DE", None, "20095")).await;
    let offered = options(&api, &key, &c).await;
    assert_eq!(offered.status, 200, "{:?}", offered.body);
    let option = &offered.body["data"][0];
    assert_eq!(
        (&option["name"], &option["amount"]),
        (&json!("Standard"), &json!(490))
    );
    assert_eq!(option["delivery_days"], json!({"min": 2, "max": 4}));
    let chosen = choose(&api, &key, &c, option["id"].as_str().unwrap()).await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    assert_eq!(totals(&chosen.body), [4_998, 490, 0, 5_488]);
    assert_eq!(chosen.body["shipping_method"]["name"], "Standard");
    let more = api
        .send(
            api.post(&format!("/store/carts/{c}/items"))
                .header("x-api-key", &key)
                .json(json!({"variant_id": v[0], "quantity": 1})),
        )
        .await;
    assert_eq!(more.status, 200);
    assert_eq!(totals(&more.body), [7_497, 0, 0, 7_497]);
    assert_eq!(more.body["shipping_method"]["amount"], 0);
}

/// Weight tiers (0.8 kg boots, two of them: the 1–5 kg tier), with shipping taxed at 19 %.
async fn weight_tiered_shipping_is_taxed_when_settings_say_so(api: Api) {
    let (a, key) = company(&api, "munich", "DE", "EUR").await;
    settings(&api, &a, "tax", json!({"tax_on_shipping": true})).await;
    rate(
        &api,
        &a,
        json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
    )
    .await;
    zone(&api, &a, json!({"name": "Germany", "countries": ["DE"], "methods": [
        {"name": "Parcel", "currency": "EUR", "rate": {"type": "weight", "tiers": [{"up_to": 1, "amount": 490}, {"up_to": 5, "amount": 890}]}}
    ]})).await;
    let v = variants(&api, &a, "EUR", &[("Boots", 1_000, json!({"weight": 0.8}))]).await;
    let c = cart(&api, &key, &[(&v[0], 2)]).await;
    ship_to(&api, &key, &c, address("DE", None, "80331")).await;
    let offered = options(&api, &key, &c).await;
    assert_eq!(offered.body["data"][0]["amount"], 890);
    let chosen = choose(
        &api,
        &key,
        &c,
        offered.body["data"][0]["id"].as_str().unwrap(),
    )
    .await;
    // Lines 20.00 + 3.80 tax; shipping 8.90 + 1.69 tax (1.691).
    assert_eq!(chosen.body["shipping_tax"], 169);
    assert_eq!(totals(&chosen.body), [2_000, 1_059, 549, 3_439]);
    assert_eq!(tax_lines(&chosen.body), named(&[("MwSt. 19 %", 549)]));
}

// Zones, methods and carriers ---------------------------------------------------------------

fn flat(name: &str, amount: i64) -> Value {
    json!({"name": name, "currency": "EUR", "rate": {"type": "flat", "amount": amount}})
}

fn option_names(offered: &Response) -> Vec<(String, i64)> {
    offered.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Overlapping zones: a postcode range beats a country, a country beats the rest of the world;
/// a method the next change makes inapplicable is cleared, and the answer says so.
async fn the_most_specific_zone_offers_its_methods(api: Api) {
    let (a, key) = company(&api, "berlin", "DE", "EUR").await;
    zone(
        &api,
        &a,
        json!({"name": "World", "countries": ["*"], "methods": [flat("International", 1_500)]}),
    )
    .await;
    zone(&api, &a, json!({"name": "Germany", "countries": ["DE"], "methods": [
        flat("Standard", 490),
        {"name": "Small orders", "currency": "EUR", "rate": {"type": "flat", "amount": 390}, "max_subtotal": 3_000},
        {"name": "Off", "currency": "EUR", "rate": {"type": "flat", "amount": 1}, "active": false}
    ]})).await;
    zone(&api, &a, json!({"name": "Berlin", "countries": ["DE"], "postcodes": ["10000-14999"], "methods": [
        {"name": "Bike courier", "currency": "EUR", "rate": {"type": "per_item", "base": 200, "amount": 50}}
    ]})).await;
    let v = variants(&api, &a, "EUR", &[("Plant", 1_000, json!({}))]).await;
    let c = cart(&api, &key, &[(&v[0], 2)]).await;
    let none = options(&api, &key, &c).await;
    assert_eq!((none.status, none.code()), (422, "address_required"));
    ship_to(&api, &key, &c, address("DE", None, "10115")).await;
    let berlin = options(&api, &key, &c).await;
    assert_eq!(option_names(&berlin), [("Bike courier".to_owned(), 300)]);
    // With the zones and rates in the container's copy: the cart, then its products.
    let (again, calls) = api
        .send_counted(
            api.get(&format!("/store/carts/{c}/shipping-options"))
                .header("x-api-key", &key),
        )
        .await;
    assert_eq!((again.status, calls), (200, 2));
    assert_eq!(berlin.body["data"][0]["zone_name"], "Berlin");
    ship_to(&api, &key, &c, address("DE", None, "80331")).await;
    let munich = options(&api, &key, &c).await;
    assert_eq!(
        option_names(&munich),
        [
            ("Small orders".to_owned(), 390),
            ("Standard".to_owned(), 490)
        ]
    );
    ship_to(&api, &key, &c, address("FR", None, "75001")).await;
    assert_eq!(
        option_names(&options(&api, &key, &c).await),
        [("International".to_owned(), 1_500)]
    );
    // Choose the small-orders method in Munich, then grow the cart past its maximum.
    ship_to(&api, &key, &c, address("DE", None, "80331")).await;
    let small = munich.body["data"][0]["id"].as_str().unwrap().to_owned();
    let chosen = choose(&api, &key, &c, &small).await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    assert_eq!(totals(&chosen.body), [2_000, 390, 0, 2_390]);
    assert_eq!(chosen.body["notices"], json!([]));
    let grown = api
        .send(
            api.post(&format!("/store/carts/{c}/items"))
                .header("x-api-key", &key)
                .json(json!({"variant_id": v[0], "quantity": 2})),
        )
        .await;
    assert_eq!(grown.status, 200);
    assert_eq!(grown.body["shipping_method"], Value::Null);
    assert_eq!(grown.body["notices"][0]["code"], "shipping_method_cleared");
    assert_eq!(totals(&grown.body), [4_000, 0, 0, 4_000]);
    // Cleared for good: the next read has no method and nothing to tell.
    let again = get(&api, &key, &c).await;
    assert_eq!(
        (&again["shipping_method"], &again["notices"]),
        (&Value::Null, &json!([]))
    );
    // An option of another zone, or an unknown one, is refused; the cart is unchanged.
    let berlin_option = berlin.body["data"][0]["id"].as_str().unwrap();
    for option in [berlin_option, "shm_nope", ""] {
        let r = choose(&api, &key, &c, option).await;
        assert_eq!(
            (r.status, r.code()),
            (422, "shipping_option_unavailable"),
            "{option}"
        );
    }
    assert_eq!(get(&api, &key, &c).await["version"], again["version"]);
    // Moving the cart to Berlin after choosing Standard loses it too.
    let standard = munich.body["data"][1]["id"].as_str().unwrap();
    let r = api
        .send(
            api.patch(&format!(
                "/store/carts/{c}/items/{}",
                grown.body["items"][0]["id"].as_str().unwrap()
            ))
            .header("x-api-key", &key)
            .json(json!({"quantity": 1})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(choose(&api, &key, &c, standard).await.status, 200);
    let moved = patch(
        &api,
        &key,
        &c,
        json!({"shipping_address": address("DE", None, "10115")}),
    )
    .await;
    assert_eq!(moved.body["notices"][0]["code"], "shipping_method_cleared");
    assert_eq!(moved.body["shipping_method"], Value::Null);
}

/// Carrier methods ask the rate table in the shipping settings (the package's weight added);
/// a parcel the table has no rate for gets the method's fallback price.
async fn carrier_rates_come_from_the_settings_table(api: Api) {
    let (a, key) = company(&api, "leipzig", "DE", "EUR").await;
    settings(&api, &a, "shipping", json!({"rate_table": [
        {"service": "express", "country": "DE", "up_to_weight": 2, "amount": 990, "currency": "EUR"},
        {"service": "express", "country": "*", "up_to_weight": 10, "amount": 2_500, "currency": "EUR"}
    ]})).await;
    zone(&api, &a, json!({"name": "Everywhere", "countries": ["*"], "methods": [
        {"name": "Express", "currency": "EUR", "rate": {"type": "carrier", "service": "express", "fallback": 1_999}}
    ]})).await;
    let v = variants(&api, &a, "EUR", &[("Vase", 3_000, json!({"weight": 0.5}))]).await;
    let c = cart(&api, &key, &[(&v[0], 1)]).await;
    let amount = |offered: Response| offered.body["data"][0]["amount"].as_i64().unwrap();
    // 0.5 kg and the 1 kg package: the German row up to 2 kg.
    ship_to(&api, &key, &c, address("DE", None, "04109")).await;
    assert_eq!(amount(options(&api, &key, &c).await), 990);
    // To France: the row for every country.
    ship_to(&api, &key, &c, address("FR", None, "75001")).await;
    assert_eq!(amount(options(&api, &key, &c).await), 2_500);
    // 20 units (11 kg): no row; the fallback.
    let item = get(&api, &key, &c).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .send(
            api.patch(&format!("/store/carts/{c}/items/{item}"))
                .header("x-api-key", &key)
                .json(json!({"quantity": 20})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(amount(options(&api, &key, &c).await), 1_999);
}

/// Customers marked tax-exempt, or in a tax-exempt group, pay no tax; with prices that include
/// tax, they pay the price less the tax in it.
async fn tax_exempt_customers_and_groups_pay_no_tax(api: Api) {
    let (a, key) = company(&api, "cologne", "DE", "EUR").await;
    settings(&api, &a, "tax", json!({"prices_include_tax": true})).await;
    rate(
        &api,
        &a,
        json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
    )
    .await;
    let v = variants(&api, &a, "EUR", &[("Desk", 11_900, json!({}))]).await;
    let sign_up = |email: &'static str| {
        let (api, key) = (&api, key.clone());
        async move {
            let r = api
                .send(
                    api.post("/store/auth/register")
                        .header("x-api-key", &key)
                        .json(json!({
                            "email": email, "password": "velvet-canyon-morning-42",
                            "first_name": "Sam", "last_name": "Shopper"
                        })),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            (
                r.body["customer"]["id"].as_str().unwrap().to_owned(),
                r.body["access_token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (charity, charity_token) = sign_up("charity@example.com").await;
    let (member, member_token) = sign_up("member@example.com").await;
    let customer_cart = |token: String| {
        let (api, key, variant) = (&api, key.clone(), v[0].clone());
        async move {
            let r = api
                .send(
                    api.post("/store/carts")
                        .header("x-api-key", &key)
                        .token(&token)
                        .json(json!({"items": [{"variant_id": variant, "quantity": 1}], "country": "DE"})),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body
        }
    };
    let before = customer_cart(charity_token.clone()).await;
    assert_eq!(totals(&before), [11_900, 0, 1_900, 11_900]);
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/customers/{charity}")))
                .json(json!({"tax_exempt": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["tax_exempt"], true);
    let exempt = customer_cart(charity_token).await;
    assert_eq!(exempt["tax_exemption"], "customer_exempt");
    assert_eq!(totals(&exempt), [10_000, 0, 0, 10_000]);
    let line = &exempt["items"][0];
    assert_eq!(
        (&line["unit_price"], &line["list_price"]),
        (&json!(10_000), &json!(11_900))
    );
    // A member of a tax-exempt group.
    let group = api
        .send(
            a.admin(api.post("/admin/customer-groups"))
                .json(json!({"name": "Schools", "tax_exempt": true})),
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let r = api
        .send(
            a.admin(api.patch(&format!("/admin/customers/{member}")))
                .json(json!({"group_ids": [group.body["id"]]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cart = customer_cart(member_token.clone()).await;
    assert_eq!(cart["tax_exemption"], "customer_exempt");
    // Reading it (the cart with the customer, then products with groups) agrees.
    let id = cart["id"].as_str().unwrap();
    let (read, calls) = api
        .send_counted(
            api.get(&format!("/store/carts/{id}"))
                .header("x-api-key", &key)
                .token(&member_token),
        )
        .await;
    assert_eq!(totals(&read.body), [10_000, 0, 0, 10_000]);
    assert_eq!(
        calls, 2,
        "the cart with its customer, then its products with the groups"
    );
    // A guest pays tax as before.
    let guest = cart_priced(&api, &key, &v[0]).await;
    assert_eq!(totals(&guest), [11_900, 0, 1_900, 11_900]);
}

async fn cart_priced(api: &Api, key: &str, variant: &str) -> Value {
    let r = api
        .send(
            api.post("/store/carts")
                .header("x-api-key", key)
                .json(json!({"items": [{"variant_id": variant, "quantity": 1}], "country": "DE"})),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

// Admin routes -------------------------------------------------------------------------------

/// Bad rates and zones are refused whole; another company's answer 404; a member without the
/// permission, a storefront key and a customer token are turned away.
async fn rates_and_zones_are_checked_scoped_and_guarded(api: Api) {
    let (a, key) = company(&api, "acme", "DE", "EUR").await;
    let (b, _) = company(&api, "bolt", "DE", "EUR").await;
    let bad_rates = [
        json!({"name": "Negative", "country": "DE", "percentage": -1}),
        json!({"name": "Too much", "country": "DE", "percentage": 100.5}),
        json!({"name": "Too precise", "country": "DE", "percentage": 19.12345}),
        json!({"name": "Nowhere", "country": "ZZ", "percentage": 19}),
        json!({"name": "Wrong region", "country": "DE", "region": "US-NY", "percentage": 19}),
        json!({"name": "Backwards", "country": "DE", "postcode": "20000-10000", "percentage": 19}),
        json!({"name": "Junk postcode", "country": "DE", "postcode": "10 115!", "percentage": 19}),
        json!({"name": "Luxury", "country": "DE", "tax_class": "luxury", "percentage": 25}),
        json!({"name": "Priority", "country": "DE", "percentage": 19, "priority": 0}),
        json!({"name": "", "country": "DE", "percentage": 19}),
        json!({"name": "Text", "country": "DE", "percentage": "19"}),
        json!({"name": "Extra", "country": "DE", "percentage": 19, "colour": "red"}),
    ];
    for body in bad_rates {
        let r = api
            .send(a.admin(api.post("/admin/tax/rates")).json(body.clone()))
            .await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    let bad_zones = [
        json!({"name": "Empty", "countries": []}),
        json!({"name": "Nowhere", "countries": ["ZZ"]}),
        json!({"name": "Star and more", "countries": ["*", "DE"]}),
        json!({"name": "Region", "countries": ["DE"], "regions": ["FR-75"]}),
        json!({"name": "Postcode", "countries": ["DE"], "postcodes": ["99-1"]}),
        json!({"name": "Dollars", "countries": ["DE"], "methods": [{"name": "X", "currency": "USD", "rate": {"type": "flat", "amount": 100}}]}),
        json!({"name": "Negative", "countries": ["DE"], "methods": [flat("X", -1)]}),
        json!({"name": "No tiers", "countries": ["DE"], "methods": [{"name": "X", "currency": "EUR", "rate": {"type": "weight", "tiers": []}}]}),
        json!({"name": "Unknown type", "countries": ["DE"], "methods": [{"name": "X", "currency": "EUR", "rate": {"type": "magic"}}]}),
        json!({"name": "Bounds", "countries": ["DE"], "methods": [{"name": "X", "currency": "EUR", "rate": {"type": "flat", "amount": 1}, "min_subtotal": 10, "max_subtotal": 5}]}),
        json!({"name": "Foreign id", "countries": ["DE"], "methods": [{"id": "shm_01J0000000000000000000000A", "name": "X", "currency": "EUR", "rate": {"type": "flat", "amount": 1}}]}),
    ];
    for body in bad_zones {
        let r = api
            .send(
                a.admin(api.post("/admin/shipping/zones"))
                    .json(body.clone()),
            )
            .await;
        assert_eq!(r.status, 422, "{body}: {:?}", r.body);
    }
    let listed = api.send(a.admin(api.get("/admin/tax/rates"))).await;
    assert_eq!(listed.body["data"], json!([]), "nothing was half-written");
    // A custom class becomes usable once the settings name it.
    settings(&api, &a, "tax", json!({"custom_classes": ["luxury"]})).await;
    let luxury = rate(
        &api,
        &a,
        json!({"name": "Luxury", "country": "DE", "tax_class": "luxury", "percentage": 25}),
    )
    .await;
    let germany = zone(
        &api,
        &a,
        json!({"name": "Germany", "countries": ["DE"], "methods": [flat("Standard", 490)]}),
    )
    .await;
    let zone_id = germany["id"].as_str().unwrap();
    let method_id = germany["methods"][0]["id"].as_str().unwrap();
    // Changing keeps a named method's id; If-Match guards the version.
    let changed = api
        .send(
            a.admin(api.patch(&format!("/admin/shipping/zones/{zone_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"methods": [{"id": method_id, "name": "Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 590}}, flat("Express", 990)]})),
        )
        .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["methods"][0]["id"], method_id);
    assert_eq!(changed.body["methods"][1]["name"], "Express");
    let stale = api
        .send(
            a.admin(api.patch(&format!("/admin/shipping/zones/{zone_id}")))
                .header("if-match", "\"1\"")
                .json(json!({"name": "Deutschland"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    let rate_changed = api
        .send(
            a.admin(api.patch(&format!("/admin/tax/rates/{luxury}")))
                .json(json!({"percentage": 22, "postcode": "10*"})),
        )
        .await;
    assert_eq!(rate_changed.status, 200, "{:?}", rate_changed.body);
    assert_eq!(
        (&rate_changed.body["rate"], &rate_changed.body["percentage"]),
        (&json!(220_000), &json!(22.0))
    );
    assert_eq!(rate_changed.body["postcode"], "10*");
    // Another company sees none of it.
    for path in [
        format!("/admin/tax/rates/{luxury}"),
        format!("/admin/shipping/zones/{zone_id}"),
    ] {
        assert_eq!(
            api.send(b.admin(api.get(&path))).await.status,
            404,
            "{path}"
        );
        assert_eq!(
            api.send(b.admin(api.patch(&path)).json(json!({"name": "Mine"})))
                .await
                .status,
            404
        );
        assert_eq!(api.send(b.admin(api.delete(&path))).await.status, 404);
    }
    assert_eq!(
        api.send(b.admin(api.get("/admin/tax/rates"))).await.body["data"],
        json!([])
    );
    assert_eq!(
        api.send(b.admin(api.get("/admin/shipping/zones")))
            .await
            .body["data"],
        json!([])
    );
    // A member who may read but not write; a storefront key; no token.
    let reader = api
        .member_with(&a.staff, &a.id, &["tax.read", "shipping.read"])
        .await;
    assert_eq!(
        api.send(api.get("/admin/tax/rates").token(&reader))
            .await
            .status,
        200
    );
    let r = api
        .send(
            api.post("/admin/tax/rates")
                .token(&reader)
                .json(json!({"name": "X", "country": "DE", "percentage": 1})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "missing_permission"));
    let r = api
        .send(
            api.delete(&format!("/admin/shipping/zones/{zone_id}"))
                .token(&reader),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api
        .send(api.get("/admin/tax/rates").header("x-api-key", &key))
        .await;
    assert!(matches!(r.status, 401 | 403), "{:?}", r.body);
    assert_eq!(api.send(api.get("/admin/shipping/zones")).await.status, 401);
    // Deleting: gone, and the count lets a new one in.
    let deleted = api
        .send(a.admin(api.delete(&format!("/admin/shipping/zones/{zone_id}"))))
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        api.send(a.admin(api.get(&format!("/admin/shipping/zones/{zone_id}"))))
            .await
            .status,
        404
    );
    assert_eq!(
        api.send(a.admin(api.delete(&format!("/admin/tax/rates/{luxury}"))))
            .await
            .status,
        204
    );
}

api_cases!(
    new_york_adds_state_city_and_district_sales_tax,
    german_prices_include_19_and_7_percent_vat,
    a_german_business_buying_from_france_pays_no_vat,
    quebec_charges_gst_and_qst_on_the_same_price,
    a_compound_rate_taxes_the_tax_before_it,
    a_yen_cart_rounds_to_the_yen,
    shipping_is_free_over_a_threshold,
    weight_tiered_shipping_is_taxed_when_settings_say_so,
    the_most_specific_zone_offers_its_methods,
    carrier_rates_come_from_the_settings_table,
    tax_exempt_customers_and_groups_pay_no_tax,
    rates_and_zones_are_checked_scoped_and_guarded,
);
