//! Product images: the client uploads the bytes straight to the file store with a presigned
//! URL, then attaches the upload to the product once the object is there. Attaching copies the
//! upload to a key of its own and checks the copy's format, so what is shown is exactly what was
//! checked, and the upload URL (which works until it expires, however often it is used) can never
//! change a live image.

use super::image_formats::{self, CONTENT_TYPES};
use super::model::{Image, Product};
use super::service::{self, Applied};
use super::store;
use crate::app::App;
use crate::auth::caller::staff;
use crate::auth::TenantId;
use crate::blobs::UploadSpec;
use crate::catalog::errors::{CatalogCode, ProductError};
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, BlobAccess, Ctx, FieldError, HandlerFuture, Method,
    Route, RouteDoc,
};
use crate::ids::ProductId;
use crate::store::{attr, Condition, Item, TxOp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
pub const MAX_IMAGES: usize = 50;
/// How long a presigned upload URL works.
const UPLOAD_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long an upload may wait to be attached.
const UPLOAD_KEPT_SECS: i64 = 24 * 3600;
const TAG: &str = "products";

/// Fills in the signed URLs of a product's images.
pub async fn with_urls(app: &App, mut product: Product) -> Result<Product, ApiError> {
    for image in &mut product.images {
        image.url = app.blobs.published_url(&image.object_key).await?;
    }
    Ok(product)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif` or `image/avif`.
    pub content_type: String,
    /// The exact size in bytes, at most 20 MB.
    pub size: u64,
}

/// Where and how to send the bytes: `method` to `url` with `headers`, before `expires_at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upload {
    /// `upl_<ULID>`, to attach the image afterwards.
    pub upload_id: String,
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub expires_at: String,
}

fn upload(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let input: NewUpload = ctx.req.json()?;
        let mut errors = Vec::new();
        if !CONTENT_TYPES.contains(&input.content_type.as_str()) {
            errors.push(FieldError::new(
                "content_type",
                "unsupported",
                format!("one of {}", CONTENT_TYPES.join(", ")),
            ));
        }
        if input.size == 0 || input.size > MAX_IMAGE_BYTES {
            errors.push(FieldError::new(
                "size",
                "out_of_range",
                "from 1 byte to 20 MB (20,971,520 bytes)",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let product_id = super::product_id(&ctx)?;
        store::product(ctx.app.table.as_ref(), tenant, &product_id)
            .await?
            .ok_or_else(|| ApiError::not_found("product"))?;
        let id = ctx.app.ids.new_id("upl");
        let object_key = store::upload_object_key(tenant, product_id.as_str(), &id);
        let presigned = ctx
            .app
            .blobs
            .presign_put(
                &object_key,
                &UploadSpec {
                    content_type: input.content_type.clone(),
                    size: input.size,
                    expires_in: UPLOAD_WINDOW,
                },
            )
            .await?;
        let key = store::upload_key(tenant, &id);
        let now = ctx.app.clock.epoch_seconds();
        let mut item = Item::new();
        item.insert(attr::PK.into(), key.pk.into());
        item.insert(attr::SK.into(), key.sk.into());
        item.insert(attr::ENTITY.into(), "image_upload".into());
        item.insert(attr::VERSION.into(), 1.into());
        item.insert("product_id".into(), product_id.as_str().into());
        item.insert("object_key".into(), object_key.into());
        item.insert("content_type".into(), input.content_type.into());
        item.insert("size".into(), input.size.into());
        item.insert(attr::TTL.into(), (now + UPLOAD_KEPT_SECS).into());
        ctx.app.table.put(item, Some(Condition::NotExists)).await?;
        Ok(ApiResponse::json(
            201,
            &Upload {
                upload_id: id,
                url: presigned.url,
                method: presigned.method,
                headers: presigned.headers.into_iter().collect(),
                expires_at: crate::clock::rfc3339(presigned.expires_at),
            },
        ))
    })
}

pub static CREATE_UPLOAD: Route = Route {
    name: "create_image_upload",
    method: Method::Post,
    path: "/admin/products/{id}/images/uploads",
    access: Access::Staff("products.write"),
    summary: "Get a presigned URL to upload a product image to",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: upload,
    doc: || {
        RouteDoc::new()
            .request::<NewUpload>()
            .response::<Upload>(
                201,
                "Send the bytes with this request, then attach the upload",
            )
            .error(HttpCode::NotFound)
    },
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachImage {
    /// The upload whose bytes to attach: they must be of the content type it was created with
    /// (else 422 `content_mismatch`).
    pub upload_id: String,
    #[serde(default)]
    pub alt: String,
    pub position: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageChange {
    pub alt: Option<String>,
    pub position: Option<u32>,
}

fn check_alt(alt: &str) -> Result<(), ApiError> {
    if alt.chars().count() > 500 || alt.chars().any(char::is_control) {
        return Err(ApiError::validation(vec![FieldError::new(
            "alt",
            "invalid",
            "at most 500 characters, without control characters",
        )]));
    }
    Ok(())
}

fn reorder(images: &mut Vec<Image>, id: &str, position: Option<u32>) {
    images.sort_by_key(|i| (i.position, i.created_at.clone()));
    if let Some(position) = position {
        if let Some(from) = images.iter().position(|i| i.id == id) {
            let moved = images.remove(from);
            images.insert((position as usize).min(images.len()), moved);
        }
    }
    for (i, image) in images.iter_mut().enumerate() {
        image.position = i as u32;
    }
}

async fn attach(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    product_id: &ProductId,
    input: AttachImage,
) -> Result<Image, ApiError> {
    check_alt(&input.alt)?;
    let upload = app
        .table
        .get(&store::upload_key(tenant, &input.upload_id))
        .await?
        .filter(|u| u.get("product_id").and_then(Value::as_str) == Some(product_id.as_str()))
        .ok_or_else(|| not_uploaded("no such upload for this product"))?;
    let text = |name: &str| {
        upload
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (upload_object, content_type) = (text("object_key"), text("content_type"));
    let size = upload.get("size").and_then(Value::as_u64).unwrap_or(0);
    let image_id = app.ids.new_id("img");
    let object_key = store::image_object_key(tenant, product_id.as_str(), &image_id);
    // Checked after the copy, not before: the upload URL still works, and bytes sent to it
    // between a check and a copy would go live unchecked.
    if !app
        .blobs
        .copy(&upload_object, &object_key, &content_type)
        .await?
    {
        return Err(not_uploaded("the file has not been uploaded yet"));
    }
    let image = Image {
        id: image_id,
        url: String::new(),
        alt: input.alt.trim().to_owned(),
        position: u32::MAX,
        content_type,
        size,
        object_key: object_key.clone(),
        created_at: crate::clock::rfc3339(app.clock.now()),
    };
    let attached = async {
        check_copy(app, &image).await?;
        add_image(app, tenant, actor, product_id, &input, image).await
    }
    .await;
    let mut image = match attached {
        Ok(image) => image,
        // A refusal attached nothing. After a failure of the table the change may still have
        // committed, and a stray object is better than an image without its file.
        Err(e) if e.status < 500 => {
            forget(app, &object_key, "an image copy that was not attached").await;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    forget(app, &upload_object, "an attached upload").await;
    image.url = app.blobs.published_url(&image.object_key).await?;
    Ok(image)
}

fn not_uploaded(detail: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new("upload_id", "not_uploaded", detail)])
}

/// The image's file (the copy) must have the announced size and start as its content type says.
async fn check_copy(app: &App, image: &Image) -> Result<(), ApiError> {
    let copy = app
        .blobs
        .first_bytes(&image.object_key, image_formats::SIGNATURE_BYTES)
        .await?
        .ok_or_else(|| not_uploaded("the file has not been uploaded yet"))?;
    if copy.meta.size != image.size {
        return Err(not_uploaded("the uploaded file is not the announced size"));
    }
    if !image_formats::starts_as(&image.content_type, &copy.bytes) {
        return Err(ApiError::validation(vec![FieldError::new(
            "upload_id",
            "content_mismatch",
            format!(
                "the uploaded file is not a {} image (judged by its first bytes)",
                image.content_type
            ),
        )]));
    }
    Ok(())
}

/// Adds `image` to the product in a change that also uses the upload up.
async fn add_image(
    app: &App,
    tenant: &TenantId,
    actor: &str,
    product_id: &ProductId,
    input: &AttachImage,
    image: Image,
) -> Result<Image, ApiError> {
    let upload_key = store::upload_key(tenant, &input.upload_id);
    // The upload is used up with the change: it cannot be attached twice.
    let used_up: [service::Extra; 1] = [(
        TxOp::Delete {
            key: upload_key,
            condition: Some(Condition::Exists),
        },
        || {
            ProductError::Invalid(vec![FieldError::new(
                "upload_id",
                "not_uploaded",
                "this upload was attached already",
            )])
        },
    )];
    let (image, _) = service::change_with(
        app,
        tenant,
        actor,
        product_id,
        None,
        &used_up,
        |before, _| {
            let mut p = before.clone();
            if p.images.len() >= MAX_IMAGES {
                return Err(ProductError::TooManyImages { max: MAX_IMAGES });
            }
            p.images.push(image.clone());
            reorder(&mut p.images, &image.id, input.position);
            let image = p.image(&image.id).cloned().expect("added");
            Ok(Applied {
                events: vec![(
                    crate::catalog::events::CatalogEvent::ProductUpdated,
                    json!({"product_id": p.id, "image_added": image.id}),
                )],
                answer: image,
                product: p,
            })
        },
    )
    .await?;
    Ok(image)
}

/// Deletes an object nothing refers to. Best effort: a failure leaves a stray object, not a
/// broken image (and the bucket expires uploads anyway).
async fn forget(app: &App, key: &str, what: &str) {
    if let Err(e) = app.blobs.delete(key).await {
        tracing::warn!(error = %e, key, "could not delete {what}");
    }
}

fn attach_route(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: AttachImage = ctx.req.json()?;
        let product_id = super::product_id(&ctx)?;
        let image = attach(&ctx.app, tenant, user, &product_id, input).await?;
        Ok(ApiResponse::created(
            &format!("/admin/products/{product_id}/images/{}", image.id),
            &image,
        ))
    })
}

pub static ATTACH_IMAGE: Route = Route {
    name: "attach_image",
    method: Method::Post,
    path: "/admin/products/{id}/images",
    access: Access::Staff("products.write"),
    summary: "Attach an uploaded image to the product",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: attach_route,
    doc: || {
        RouteDoc::new()
            .error(CatalogCode::TooManyImages)
            .request::<AttachImage>()
            .response::<Image>(201, "The image")
            .error(HttpCode::NotFound)
    },
};

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: ImageChange = ctx.req.json()?;
        if let Some(alt) = &input.alt {
            check_alt(alt)?;
        }
        let image_id = ctx.param("image_id").to_owned();
        let (mut image, _) = service::change(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.req.if_match()?,
            |before, _| {
                let mut p = before.clone();
                let image = p
                    .images
                    .iter_mut()
                    .find(|i| i.id == image_id)
                    .ok_or(ProductError::NotFound("image"))?;
                if let Some(alt) = &input.alt {
                    image.alt = alt.trim().to_owned();
                }
                reorder(&mut p.images, &image_id, input.position);
                let image = p.image(&image_id).cloned().expect("kept");
                Ok(Applied {
                    events: vec![(
                        crate::catalog::events::CatalogEvent::ProductUpdated,
                        json!({"product_id": p.id, "image_changed": image.id}),
                    )],
                    answer: image,
                    product: p,
                })
            },
        )
        .await?;
        image.url = ctx.app.blobs.published_url(&image.object_key).await?;
        Ok(ApiResponse::json(200, &image))
    })
}

pub static PATCH_IMAGE: Route = Route {
    name: "patch_image",
    method: Method::Patch,
    path: "/admin/products/{id}/images/{image_id}",
    access: Access::Staff("products.write"),
    summary: "Change an image's alt text or position",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<ImageChange>()
            .response::<Image>(200, "The image")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};

fn delete(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let image_id = ctx.param("image_id").to_owned();
        let (object_key, _) = service::change(
            &ctx.app,
            tenant,
            user,
            &super::product_id(&ctx)?,
            ctx.req.if_match()?,
            |before, _| {
                let mut p = before.clone();
                let image = p
                    .image(&image_id)
                    .cloned()
                    .ok_or(ProductError::NotFound("image"))?;
                p.images.retain(|i| i.id != image_id);
                reorder(&mut p.images, &image_id, None);
                for v in &mut p.variants {
                    if v.image_id.as_deref() == Some(image_id.as_str()) {
                        v.image_id = None;
                    }
                }
                Ok(Applied {
                    events: vec![(
                        crate::catalog::events::CatalogEvent::ProductUpdated,
                        json!({"product_id": p.id, "image_removed": image.id}),
                    )],
                    answer: image.object_key,
                    product: p,
                })
            },
        )
        .await?;
        ctx.app.blobs.delete(&object_key).await?;
        Ok(ApiResponse::no_content())
    })
}

pub static DELETE_IMAGE: Route = Route {
    name: "delete_image",
    method: Method::Delete,
    path: "/admin/products/{id}/images/{image_id}",
    access: Access::Staff("products.write"),
    summary: "Remove an image and its file",
    tag: TAG,
    aws: AwsAccess {
        blobs: BlobAccess::ReadWrite,
        ..AwsAccess::WRITE
    },
    handler: delete,
    doc: || {
        RouteDoc::new()
            .empty_response(204, "Removed")
            .error(HttpCode::NotFound)
            .error(HttpCode::PreconditionFailed)
    },
};
