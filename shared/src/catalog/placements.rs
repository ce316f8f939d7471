//! Where a product is listed besides the company's main listing (which staff read, every status):
//! the storefront's listing of active products, the listing of each of its categories and their
//! ancestors, and of each collection holding it.
//!
//! Each of these has its own listing partition with one entry per active product and shopper
//! sort order (newest, title, price; a manual collection also by position), so a storefront
//! page is one query that reads only the entries it shows. The entries
//! are written in the product's own transactions. What the product's entries were last written
//! to, and which collections hold it, is kept in its partition (the placements item), so a
//! change removes exactly the entries it wrote.

use super::listing::Summary;
use super::model::{Product, ProductStatus};
use super::taxonomy::Taxonomy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Category and collection listings one product may be placed in: its categories with their
/// ancestors, and its collections. Keeps a product change within one transaction.
pub const MAX_PLACEMENTS: usize = 20;

/// A storefront listing: of every active product, of a category, or of a collection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Shelf {
    /// Every active product (the storefront's unfiltered listing).
    Storefront,
    Category(String),
    Collection(String),
}

impl Shelf {
    /// The partition suffix of its listing.
    pub fn suffix(&self) -> String {
        match self {
            Shelf::Storefront => "ACTIVE".to_owned(),
            Shelf::Category(id) => format!("CAT#{id}"),
            Shelf::Collection(id) => format!("COL#{id}"),
        }
    }
}

/// The product's placements item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placements {
    /// The collections holding the product: id → its position in a manual collection (`None`
    /// in an automated one).
    #[serde(default)]
    pub collections: BTreeMap<String, Option<i64>>,
    /// The listings its entries were last written to, with the position written (manual
    /// collections).
    #[serde(default)]
    pub written: Vec<(Shelf, Option<i64>)>,
    /// 0: never written.
    #[serde(default)]
    pub version: u64,
}

impl Placements {
    /// The listings `product` belongs on now: only an active product is listed to shoppers.
    pub fn shelves(&self, product: &Product, taxonomy: &Taxonomy) -> Vec<(Shelf, Option<i64>)> {
        if product.status != ProductStatus::Active {
            return Vec::new();
        }
        let mut shelves: Vec<(Shelf, Option<i64>)> = vec![(Shelf::Storefront, None)];
        for id in &product.category_ids {
            for category in taxonomy.path(id) {
                let shelf = (Shelf::Category(category.id.clone()), None);
                if !shelves.contains(&shelf) {
                    shelves.push(shelf);
                }
            }
        }
        for (id, position) in &self.collections {
            shelves.push((Shelf::Collection(id.clone()), *position));
        }
        shelves
    }

    /// Whether `shelves` (from [`Placements::shelves`]) stay within [`MAX_PLACEMENTS`]
    /// categories and collections.
    pub fn within_limit(shelves: &[(Shelf, Option<i64>)]) -> bool {
        shelves
            .iter()
            .filter(|(s, _)| *s != Shelf::Storefront)
            .count()
            <= MAX_PLACEMENTS
    }
}

/// The summary an entry holds, and the position it sorts at in a manual collection.
pub type Placed<'a> = (&'a Summary, Option<i64>);
