//! The shared backend suite against PostgreSQL, on a server the tests start
//! themselves (see `common/pg.rs`); each test gets its own database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

common::suite::backend_suite!(common::pg::fresh_store().await);

#[tokio::test]
async fn migrations_are_recorded_and_idempotent() {
    let Some(url) = common::pg::fresh_database_url().await else {
        return;
    };
    let store = waku_store::open_store(&url).await.unwrap();
    drop(store);
    // Opening again (and concurrently) migrates nothing more.
    let (a, b) = tokio::join!(waku_store::open_store(&url), waku_store::open_store(&url));
    a.unwrap();
    b.unwrap();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let versions: Vec<i32> = client
        .query(
            "SELECT version FROM waku_store_schema ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1]);
}
