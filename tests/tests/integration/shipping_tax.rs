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
async fn company(api: &Api, handle: &str, country: &str, currency: &str) -> (Shop, String) {
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

async fn settings(api: &Api, shop: &Shop, group: &str, body: Value) {
    let r = api
        .send(
            shop.admin(api.patch(&format!("/admin/settings/{group}")))
                .json(body),
        )
        .await;
    assert_eq!(r.status, 200, "{group}: {:?}", r.body);
}

async fn rate(api: &Api, shop: &Shop, body: Value) -> String {
    let r = api
        .send(shop.admin(api.post("/admin/tax/rates")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn zone(api: &Api, shop: &Shop, body: Value) -> Value {
    let r = api
        .send(shop.admin(api.post("/admin/shipping/zones")).json(body))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

/// An active product whose variants (untracked: no stock needed) have these names, prices and
/// extra fields; answers the variant ids.
async fn variants(
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

async fn cart(api: &Api, key: &str, items: &[(&str, i64)]) -> String {
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

fn address(country: &str, region: Option<&str>, postal_code: &str) -> Value {
    json!({
        "first_name": "Sam", "last_name": "Shopper", "line1": "Main Street 1", "city": "Town",
        "region": region, "postal_code": postal_code, "country": country
    })
}

async fn patch(api: &Api, key: &str, cart: &str, body: Value) -> Response {
    api.send(
        api.patch(&format!("/store/carts/{cart}"))
            .header("x-api-key", key)
            .json(body),
    )
    .await
}

async fn ship_to(api: &Api, key: &str, cart: &str, address: Value) -> Value {
    let r = patch(api, key, cart, json!({ "shipping_address": address })).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn get(api: &Api, key: &str, cart: &str) -> Value {
    let r = api
        .send(
            api.get(&format!("/store/carts/{cart}"))
                .header("x-api-key", key),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn options(api: &Api, key: &str, cart: &str) -> Response {
    api.send(
        api.get(&format!("/store/carts/{cart}/shipping-options"))
            .header("x-api-key", key),
    )
    .await
}

async fn choose(api: &Api, key: &str, cart: &str, option: &str) -> Response {
    api.send(
        api.post(&format!("/store/carts/{cart}/shipping-method"))
            .header("x-api-key", key)
            .json(json!({ "option_id": option })),
    )
    .await
}

/// subtotal, shipping_total, tax_total, grand_total.
fn totals(cart: &Value) -> [i64; 4] {
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

api_cases!(
    new_york_adds_state_city_and_district_sales_tax,
    german_prices_include_19_and_7_percent_vat,
    a_german_business_buying_from_france_pays_no_vat,
    quebec_charges_gst_and_qst_on_the_same_price,
    a_compound_rate_taxes_the_tax_before_it,
    a_yen_cart_rounds_to_the_yen,
    shipping_is_free_over_a_threshold,
    weight_tiered_shipping_is_taxed_when_settings_say_so,
);
