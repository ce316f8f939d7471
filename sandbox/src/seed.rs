//! `--seed demo`: a demo company with a storefront key, a category tree, attributes, two stock
//! locations, about fifty products with variants, images and stock, and three collections (one
//! automated), created through the API itself.

use bytes::Bytes;
use serde_json::{json, Value};
use shared::app::App;
use shared::blobs::local::LocalBlobs;
use shared::http::dispatch::dispatch;
use shared::http::route::Router;
use shared::http::ApiRequest;
use std::sync::Arc;

pub const HANDLE: &str = "demo";
pub const OWNER_EMAIL: &str = "owner@demo.example.com";
pub const OWNER_PASSWORD: &str = "demo-plum-orbit-harbor-7";

/// What a seeded sandbox prints.
pub struct Seeded {
    /// `None` when the demo company existed already (its key was shown when it was made).
    pub storefront_key: Option<String>,
    pub products: usize,
    pub locations: usize,
    pub collections: usize,
}

/// A 1×1 PNG, one per colour, so every product has a picture to show.
fn png(rgb: [u8; 3]) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn adler(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for d in data {
            a = (a + u32::from(*d)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let raw = [0u8, rgb[0], rgb[1], rgb[2]];
    // A zlib stream with one stored (uncompressed) block.
    let mut zlib = vec![
        0x78,
        0x01,
        0x01,
        raw.len() as u8,
        0,
        !(raw.len() as u8),
        0xff,
    ];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

struct Client {
    app: Arc<App>,
    router: Router,
    token: Option<String>,
}

impl Client {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut headers = http::HeaderMap::new();
        if let Some(token) = &self.token {
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        if body.is_some() {
            headers.insert("content-type", "application/json".parse().unwrap());
        }
        let response = dispatch(
            &self.app,
            &self.router,
            ApiRequest {
                method: method.into(),
                path: path.into(),
                query: String::new(),
                headers,
                body: body
                    .map(|b| Bytes::from(serde_json::to_vec(&b).unwrap()))
                    .unwrap_or_default(),
                source_ip: Some("127.0.0.1".into()),
                platform_request_id: None,
            },
        )
        .await;
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status, value)
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, value) = self.call(method, path, Some(body)).await;
        if !(200..300).contains(&status) {
            anyhow::bail!("seeding {method} {path} answered {status}: {value}");
        }
        Ok(value)
    }
}

const COLOURS: [(&str, [u8; 3]); 5] = [
    ("Black", [20, 20, 20]),
    ("White", [240, 240, 240]),
    ("Navy", [20, 30, 90]),
    ("Olive", [90, 100, 40]),
    ("Rust", [170, 70, 30]),
];

/// Creates the demo data unless the demo company exists.
pub async fn demo(app: Arc<App>, blobs: Option<Arc<LocalBlobs>>) -> anyhow::Result<Seeded> {
    let mut client = Client {
        app,
        router: shared::routes::router(shared::routes::ALL),
        token: None,
    };
    let (status, registered) = client
        .call(
            "POST",
            "/admin/auth/register",
            Some(json!({
                "company": {"name": "Demo Outfitters", "handle": HANDLE, "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
                "owner": {"name": "Demo Owner", "email": OWNER_EMAIL, "password": OWNER_PASSWORD}
            })),
        )
        .await;
    if status == 409 {
        return Ok(Seeded {
            storefront_key: None,
            products: 0,
            locations: 0,
            collections: 0,
        });
    }
    if status != 201 {
        anyhow::bail!("seeding the demo company answered {status}: {registered}");
    }
    client.token = registered["access_token"].as_str().map(str::to_owned);
    let key = client
        .ok(
            "POST",
            "/admin/api-keys",
            json!({"name": "Demo storefront", "scopes": ["store.read", "products.read", "categories.read", "customers.auth", "customers.write", "carts.write", "checkout.write"]}),
        )
        .await?;

    for (key, label, values) in [
        (
            "material",
            "Material",
            vec!["Cotton", "Wool", "Denim", "Canvas", "Linen"],
        ),
        ("fit", "Fit", vec!["Slim", "Regular", "Relaxed"]),
    ] {
        client
            .ok(
                "POST",
                "/admin/attributes",
                json!({"key": key, "label": label, "type": "select", "values": values, "filterable": true}),
            )
            .await?;
    }
    let mut categories: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for (title, parent) in [
        ("Clothing", None),
        ("Tops", Some("Clothing")),
        ("T-Shirts", Some("Tops")),
        ("Hoodies", Some("Tops")),
        ("Bottoms", Some("Clothing")),
        ("Jeans", Some("Bottoms")),
        ("Shorts", Some("Bottoms")),
        ("Accessories", None),
        ("Hats", Some("Accessories")),
        ("Bags", Some("Accessories")),
    ] {
        let parent_id = parent.map(|p: &str| categories[p].clone());
        let created = client
            .ok(
                "POST",
                "/admin/categories",
                json!({"title": title, "parent_id": parent_id}),
            )
            .await?;
        categories.insert(title, created["id"].as_str().unwrap_or_default().to_owned());
    }

    // The warehouse ships online orders first; the shop's stock backs it up.
    let mut locations = Vec::new();
    for (name, city, postal_code, priority) in [
        ("Berlin warehouse", "Berlin", "10115", 10),
        ("Hamburg shop", "Hamburg", "20095", 1),
    ] {
        let location = client
            .ok(
                "POST",
                "/admin/locations",
                json!({
                    "name": name, "priority": priority,
                    "address": {"line1": "Hauptstrasse 1", "city": city, "postal_code": postal_code, "country": "DE"}
                }),
            )
            .await?;
        locations.push(location["id"].as_str().unwrap_or_default().to_owned());
    }

    let lines = [
        ("T-Shirts", "Tee", 1900, "Cotton", vec!["S", "M", "L"]),
        ("Hoodies", "Hoodie", 5900, "Cotton", vec!["S", "M", "L"]),
        ("Jeans", "Jeans", 7900, "Denim", vec!["30", "32", "34"]),
        ("Shorts", "Shorts", 3500, "Linen", vec!["S", "M", "L"]),
        ("Hats", "Beanie", 2400, "Wool", vec!["One size"]),
        ("Bags", "Tote", 2900, "Canvas", vec!["One size"]),
    ];
    let styles = [
        "Classic", "Everyday", "Weekend", "Harbor", "Summit", "Meadow", "Orbit", "Field", "Coast",
    ];
    let mut products = 0;
    let mut picks: Vec<String> = Vec::new();
    let mut gifts: Vec<String> = Vec::new();
    for (line, (category, noun, base_price, material, sizes)) in lines.iter().enumerate() {
        for (i, style) in styles.iter().enumerate() {
            let colours: Vec<&(&str, [u8; 3])> =
                COLOURS.iter().skip((i + line) % 3).take(2).collect();
            let status = if (i + line) % 11 == 10 {
                "draft"
            } else {
                "active"
            };
            let fit = ["Slim", "Regular", "Relaxed"][i % 3];
            let product = client
                .ok(
                    "POST",
                    "/admin/products",
                    json!({
                        "title": format!("{style} {noun}"),
                        "description": format!("**{style} {noun}** in {material}: made to last, easy to wear."),
                        "description_format": "markdown",
                        "status": status,
                        "vendor": "Demo Outfitters",
                        "product_type": noun,
                        "tags": [style.to_lowercase(), noun.to_lowercase()],
                        "attributes": {"material": material, "fit": fit},
                        "category_ids": [categories[category]],
                        "options": [
                            {"name": "Size", "values": sizes},
                            {"name": "Colour", "values": colours.iter().map(|c| c.0).collect::<Vec<_>>()}
                        ]
                    }),
                )
                .await?;
            let id = product["id"].as_str().unwrap_or_default().to_owned();
            if i == 1 {
                picks.push(id.clone());
            }
            if matches!(*noun, "Beanie" | "Tote") && i < 3 {
                gifts.push(id.clone());
            }
            let mut image_ids = Vec::new();
            if let Some(blobs) = &blobs {
                for (name, rgb) in &colours {
                    let bytes = png(*rgb);
                    let upload = client
                        .ok(
                            "POST",
                            &format!("/admin/products/{id}/images/uploads"),
                            json!({"content_type": "image/png", "size": bytes.len()}),
                        )
                        .await?;
                    let url = upload["url"].as_str().unwrap_or_default();
                    let (path, query) = url
                        .split_once(shared::blobs::local::SERVE_PREFIX)
                        .and_then(|(_, rest)| rest.split_once('?'))
                        .unwrap_or_default();
                    blobs
                        .serve("PUT", path, query, Some("image/png"), Bytes::from(bytes))
                        .await;
                    let image = client
                        .ok(
                            "POST",
                            &format!("/admin/products/{id}/images"),
                            json!({"upload_id": upload["upload_id"], "alt": format!("{style} {noun} in {name}")}),
                        )
                        .await?;
                    image_ids.push(image["id"].as_str().unwrap_or_default().to_owned());
                }
            }
            let price = base_price + (i as i64 % 3) * 500;
            for (s, size) in sizes.iter().enumerate() {
                for (c, (colour, _)) in colours.iter().enumerate() {
                    let variant = client
                        .ok(
                            "POST",
                            &format!("/admin/products/{id}/variants"),
                            json!({
                                "sku": format!("{}-{}-{}-{}", noun.to_uppercase(), style.to_uppercase(), size.replace(' ', ""), colour.to_uppercase()),
                                "price": {"amount": price + (s as i64) * 100, "currency": "EUR"},
                                "options": {"Size": size, "Colour": colour},
                                "weight": 0.3,
                                "image_id": image_ids.get(c),
                            }),
                        )
                        .await?;
                    // Varied stock: some variants only in the shop, a few sold out.
                    let units = (i * 7 + s * 3 + c * 5 + line) % 13;
                    for (at, delta) in locations.iter().zip([units as i64, (units % 4) as i64]) {
                        if delta > 0 {
                            client
                                .ok(
                                    "POST",
                                    "/admin/inventory/adjustments",
                                    json!({
                                        "variant_id": variant["id"], "location_id": at,
                                        "delta": delta, "reason": "received"
                                    }),
                                )
                                .await?;
                        }
                    }
                }
            }
            products += 1;
        }
    }

    // Two manual collections, in the order given, and one the collections worker fills from its
    // rule once the sandbox runs.
    let mut collections = 0;
    for (title, description, members) in [
        ("Staff Picks", "One of each, chosen by the team.", picks),
        ("Gift Ideas", "Hats and bags that fit any wrapping.", gifts),
    ] {
        let collection = client
            .ok(
                "POST",
                "/admin/collections",
                json!({"title": title, "description": description}),
            )
            .await?;
        let id = collection["id"].as_str().unwrap_or_default();
        client
            .ok(
                "POST",
                &format!("/admin/collections/{id}/products"),
                json!({"product_ids": members}),
            )
            .await?;
        collections += 1;
    }
    client
        .ok(
            "POST",
            "/admin/collections",
            json!({
                "title": "Under 30 EUR", "handle": "under-30", "sort_order": "price",
                "rules": {"match": "all", "rules": [{"field": "price", "relation": "less_than", "value": 3000}]}
            }),
        )
        .await?;
    collections += 1;

    // Ready to sell: German VAT included in the prices, shipping in Germany and the rest of
    // the EU, a welcome code, and the manual and test payment providers (the test provider's
    // card numbers decide its outcome, with no network).
    client
        .ok(
            "PATCH",
            "/admin/settings/tax",
            json!({"prices_include_tax": true}),
        )
        .await?;
    client
        .ok(
            "POST",
            "/admin/tax/rates",
            json!({"name": "MwSt. 19 %", "country": "DE", "percentage": 19}),
        )
        .await?;
    let zones = [
        json!({"name": "Germany", "countries": ["DE"], "methods": [
            {"name": "Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 490}},
            {"name": "Express", "currency": "EUR", "rate": {"type": "flat", "amount": 990}}
        ]}),
        json!({"name": "European Union", "countries": [
            "AT", "BE", "BG", "CY", "CZ", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
            "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"
        ], "methods": [
            {"name": "EU Standard", "currency": "EUR", "rate": {"type": "flat", "amount": 1290}}
        ]}),
    ];
    for zone in zones {
        client.ok("POST", "/admin/shipping/zones", zone).await?;
    }
    client
        .ok(
            "POST",
            "/admin/discounts",
            json!({
                "title": "Welcome 10 %", "method": "code", "code": "WELCOME10",
                "value": {"type": "percentage", "percentage": 10}
            }),
        )
        .await?;
    client
        .ok(
            "PATCH",
            "/admin/settings/payments",
            json!({"enabled_providers": ["manual", "test"], "capture_mode": "automatic"}),
        )
        .await?;
    Ok(Seeded {
        storefront_key: key["secret"].as_str().map(str::to_owned),
        products,
        locations: locations.len(),
        collections,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pngs_are_well_formed() {
        let png = super::png([1, 2, 3]);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.ends_with(&[0xae, 0x42, 0x60, 0x82]), "IEND's CRC");
    }
}
