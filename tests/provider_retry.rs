//! Retry behaviour against the real sandbox: injected 503s and 413 rate limits are retried
//! (bounded), and a budget that runs out surfaces the last error.

mod provider_common;

use std::time::{Duration, Instant};

use provider_common::{fast, options, sandbox};
use snapform::provider::{Client, ImageQuery, ProviderError, Tuning};

#[tokio::test]
async fn injected_503s_are_retried() {
    let sb = sandbox(0.3, &[]).await;
    let mut opts = options(&sb);
    opts.max_retries = 12;
    let c = Client::connect_with(opts, fast())
        .await
        .expect("connect (identity is not faulted)");
    let calls = 30;
    for _ in 0..calls {
        let images = c
            .list_images(&ImageQuery::default())
            .await
            .expect("retried until success");
        assert!(!images.is_empty());
    }
    let sent = c.request_count() - 1;
    assert!(
        sent > calls,
        "with a 30% error rate some calls must have been resent ({sent})"
    );
}

#[tokio::test]
async fn retry_budget_is_bounded_and_the_error_names_503() {
    let sb = sandbox(1.0, &[]).await;
    let mut opts = options(&sb);
    opts.max_retries = 3;
    let c = Client::connect_with(opts, fast()).await.unwrap();
    let before = c.request_count();
    let err = c.list_servers().await.unwrap_err();
    assert_eq!(c.request_count() - before, 4, "1 try + 3 retries");
    assert!(
        matches!(err, ProviderError::Api { status: 503, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("GET /servers/detail: HTTP 503: "),
        "{err}"
    );
}

#[tokio::test]
async fn rate_limit_413_waits_for_retry_after_and_succeeds() {
    let sb = sandbox(0.0, &["GET=4/s"]).await;
    let tuning = Tuning {
        max_retry_wait: Duration::from_secs(2),
        ..fast()
    };
    let c = Client::connect_with(options(&sb), tuning).await.unwrap();
    let started = Instant::now();
    let calls = 10;
    for _ in 0..calls {
        c.list_images(&ImageQuery::default())
            .await
            .expect("rate limit waited out");
    }
    let sent = c.request_count() - 1;
    assert!(
        sent > calls,
        "some GETs were answered 413 and resent ({sent})"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After was honoured"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn rate_limit_413_surfaces_when_retries_run_out() {
    let sb = sandbox(0.0, &["GET=2/min"]).await;
    let mut opts = options(&sb);
    opts.max_retries = 2;
    let tuning = Tuning {
        max_retry_wait: Duration::from_millis(50),
        ..fast()
    };
    let c = Client::connect_with(opts, tuning).await.unwrap();
    c.list_servers().await.unwrap();
    c.list_servers().await.unwrap();
    let err = c.list_servers().await.unwrap_err();
    match err {
        ProviderError::Api {
            status: 413,
            retry_after: Some(secs),
            ref operation,
            ..
        } => {
            assert!(secs > 0 && secs <= 60, "{secs}");
            assert_eq!(operation, "GET /servers/detail");
        }
        other => panic!("expected a rate-limit 413, got {other:?}"),
    }
}
