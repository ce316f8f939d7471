//! `GET /admin/company`, `PATCH /admin/company`.

use super::model::Company;
use super::store;
use crate::auth::caller::staff;
use crate::clock::rfc3339;
use crate::companies::errors::CompanyCode;
use crate::companies::model::{validate_company, NewCompany};
use crate::events::{outbox_put, DomainEvent};
use crate::http::HttpCode;
use crate::http::{
    Access, ApiError, ApiResponse, AwsAccess, Ctx, HandlerFuture, Method, Route, RouteDoc,
};
use crate::store::StoreError;
use crate::validate::Errors;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

fn get(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, _, _) = staff(&ctx)?;
        let company = store::get(ctx.app.table.as_ref(), tenant)
            .await?
            .ok_or_else(|| ApiError::not_found("company"))?;
        Ok(ApiResponse::json(200, &company).with_etag(company.version))
    })
}

pub static GET_COMPANY: Route = Route {
    name: "get_company",
    method: Method::Get,
    path: "/admin/company",
    access: Access::StaffSelf,
    summary: "The company profile",
    tag: "company",
    aws: AwsAccess::READ,
    handler: get,
    doc: || RouteDoc::new().response::<Company>(200, "The company"),
};

/// Fields to change; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    pub name: Option<String>,
    pub handle: Option<String>,
    pub country: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
}

fn patch(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let (tenant, user, _) = staff(&ctx)?;
        let input: CompanyPatch = ctx.req.json()?;
        let if_match = ctx.req.if_match()?;
        let table = ctx.app.table.as_ref();
        let before = store::get(table, tenant)
            .await?
            .ok_or_else(|| ApiError::not_found("company"))?;
        if if_match.is_some_and(|v| v != before.version) {
            return Err(ApiError::precondition_failed());
        }
        let merged = NewCompany {
            name: input.name.unwrap_or_else(|| before.name.clone()),
            handle: input.handle.unwrap_or_else(|| before.handle.clone()),
            country: input.country.unwrap_or_else(|| before.country.clone()),
            currency: input.currency.unwrap_or_else(|| before.currency.clone()),
            timezone: input.timezone.unwrap_or_else(|| before.timezone.clone()),
        };
        let mut errors = Errors::new();
        validate_company(&mut errors, "", &merged);
        errors.finish()?;
        let same = Company {
            name: merged.name.trim().to_owned(),
            handle: merged.handle,
            country: merged.country,
            currency: merged.currency,
            timezone: merged.timezone,
            ..before.clone()
        };
        if same == before {
            // A change that changes nothing writes nothing.
            return Ok(ApiResponse::json(200, &before).with_etag(before.version));
        }
        let after = Company {
            updated_at: rfc3339(ctx.app.clock.now()),
            version: before.version + 1,
            ..same
        };
        let event = DomainEvent::new(
            &ctx.app,
            tenant,
            crate::companies::events::CompanyEvent::Updated,
            Some(user.to_owned()),
            json!({"company_id": after.id, "before": before, "after": after}),
        );
        match store::update(
            table,
            &before,
            &after,
            before.version,
            outbox_put(&event, ctx.app.clock.epoch_seconds()),
        )
        .await
        {
            Ok(()) => {}
            Err(e) if e.failed_at(0) => return Err(ApiError::precondition_failed()),
            Err(StoreError::TransactionCancelled { .. }) => {
                return Err(ApiError::new(
                    CompanyCode::HandleTaken,
                    "this handle is already taken",
                ))
            }
            Err(e) => return Err(e.into()),
        }
        Ok(ApiResponse::json(200, &after).with_etag(after.version))
    })
}

pub static PATCH_COMPANY: Route = Route {
    name: "update_company",
    method: Method::Patch,
    path: "/admin/company",
    access: Access::Staff("company.manage"),
    summary: "Change the company profile or handle",
    tag: "company",
    aws: AwsAccess::WRITE,
    handler: patch,
    doc: || {
        RouteDoc::new()
            .request::<CompanyPatch>()
            .response::<Company>(200, "The changed company")
            .error(CompanyCode::HandleTaken)
            .error(HttpCode::PreconditionFailed)
    },
};
