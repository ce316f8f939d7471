//! Sample Lambda events, one per function, for `cargo lambda invoke --data-file events/<name>.json`
//! and for the tests that feed them to the handlers.

use super::Function;
use serde_json::json;

fn sample_path(path: &str) -> String {
    path.split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => format!("sample-{}", param.trim_end_matches('+')),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn api_event(route: &shared::http::Route) -> serde_json::Value {
    let method = route.method.as_str();
    let path = sample_path(route.path);
    let route_key = format!("{method} {}", route.path);
    let params: serde_json::Map<String, serde_json::Value> = route
        .path_params()
        .into_iter()
        .map(|p| (p.to_owned(), json!(format!("sample-{p}"))))
        .collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "user-agent": "curl/8.5.0",
            "x-forwarded-for": "203.0.113.10",
            "x-forwarded-proto": "https"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0"
            },
            "requestId": "sample-request-id",
            "routeKey": route_key,
            "stage": "$default",
            "time": "25/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795942800000u64
        },
        "isBase64Encoded": false
    });
    if !params.is_empty() {
        event["pathParameters"] = serde_json::Value::Object(params);
    }
    if route.method.has_body() {
        event["headers"]["content-type"] = json!("application/json");
        event["body"] = json!("{}");
    }
    event
}

fn sample_domain_event(kind: &str) -> serde_json::Value {
    json!({
        "id": "evt_01JSAMPLE0000000000000000",
        "type": kind,
        "tenant_id": "co_01JSAMPLE0000000000000000",
        "occurred_at": "2026-11-25T09:00:00Z",
        "data": {
            "to": ["owner@example.com"],
            "subject": "Sample",
            "text": "A sample notification."
        }
    })
}

fn sqs_event(queue: &str) -> serde_json::Value {
    json!({
        "Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": sample_domain_event(shared::workers::notifications::EMAIL_REQUESTED).to_string(),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1795942800000",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1795942800001"
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": format!("arn:aws:sqs:eu-west-1:123456789012:commerce-{queue}"),
            "awsRegion": "eu-west-1"
        }]
    })
}

fn stream_event() -> serde_json::Value {
    let event = sample_domain_event(shared::workers::notifications::EMAIL_REQUESTED);
    json!({
        "Records": [{
            "eventID": "c4ca4238a0b923820dcc509a6f75849b",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1795942800,
                "Keys": {
                    "pk": {"S": "T#co_01JSAMPLE0000000000000000#EVENT"},
                    "sk": {"S": "evt_01JSAMPLE0000000000000000"}
                },
                "NewImage": {
                    "pk": {"S": "T#co_01JSAMPLE0000000000000000#EVENT"},
                    "sk": {"S": "evt_01JSAMPLE0000000000000000"},
                    "entity": {"S": "event"},
                    "version": {"N": "1"},
                    "ttl": {"N": "1796547600"},
                    "event": {"M": {
                        "id": {"S": event["id"].as_str().unwrap()},
                        "type": {"S": event["type"].as_str().unwrap()},
                        "tenant_id": {"S": event["tenant_id"].as_str().unwrap()},
                        "occurred_at": {"S": event["occurred_at"].as_str().unwrap()},
                        "data": {"M": {
                            "to": {"L": [{"S": "owner@example.com"}]},
                            "subject": {"S": "Sample"},
                            "text": {"S": "A sample notification."}
                        }}
                    }}
                },
                "SequenceNumber": "111",
                "SizeBytes": 300,
                "StreamViewType": "NEW_IMAGE"
            },
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/commerce/stream/2026-11-25T00:00:00.000"
        }]
    })
}

pub fn render(function: &Function) -> String {
    let value = match function {
        Function::Route(route) => api_event(route),
        Function::Worker(worker) => sqs_event(worker.queue),
        Function::Dispatcher => stream_event(),
    };
    let mut text = serde_json::to_string_pretty(&value).expect("events serialise");
    text.push('\n');
    text
}
