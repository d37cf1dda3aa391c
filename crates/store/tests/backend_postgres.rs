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

#[tokio::test]
async fn the_pool_opens_at_most_the_configured_connections() {
    let Some(url) = common::pg::fresh_database_url().await else {
        return;
    };
    assert!(
        waku_store::PostgresStore::connect_with_pool_size(&url, 0)
            .await
            .is_err()
    );
    let store = waku_store::PostgresStore::connect_with_pool_size(&url, 2)
        .await
        .unwrap();
    assert_eq!(store.max_connections(), 2);
    let store: std::sync::Arc<dyn waku_store::MessageStore> = std::sync::Arc::new(store);
    store
        .put(vec![common::entry(1, common::CT, "x")])
        .await
        .unwrap();
    // A burst of 30 queries completes through two connections.
    let queries: Vec<_> = (0..30)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .query(waku_store::MessageQuery {
                        filter: waku_store::MessageFilter::default(),
                        cursor: None,
                        forward: true,
                        page_size: 10,
                        include_data: true,
                    })
                    .await
                    .unwrap()
                    .entries
                    .len()
            })
        })
        .collect();
    for q in queries {
        assert_eq!(q.await.unwrap(), 1);
    }
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let others: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((1..=2).contains(&others), "{others} connections");
}

#[tokio::test]
async fn a_column_of_another_type_is_an_error_not_a_panic() {
    let Some(url) = common::pg::fresh_database_url().await else {
        return;
    };
    let e = common::entry(5, common::CT, "typed");
    {
        let store = waku_store::open_store(&url).await.unwrap();
        store.put(vec![e.clone()]).await.unwrap();
    }
    // Someone changes the schema behind the store's back.
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("ALTER TABLE messages ALTER COLUMN timestamp TYPE TEXT")
        .await
        .unwrap();
    let store = waku_store::open_store(&url).await.unwrap();
    let query = |cursor| waku_store::MessageQuery {
        filter: waku_store::MessageFilter::default(),
        cursor,
        forward: true,
        page_size: 10,
        include_data: true,
    };
    // The cursor's timestamp, and the timestamp of each row of a page, are
    // read as BIGINT: a typed error, the task polling the future lives on.
    for cursor in [Some(e.hash), None] {
        let result = tokio::spawn({
            let store = store.clone();
            async move { store.query(query(cursor)).await }
        })
        .await
        .expect("the query future must not panic");
        assert!(
            matches!(result, Err(waku_store::StoreError::Corrupt(_))),
            "{result:?}"
        );
    }
    assert_eq!(store.count().await.unwrap(), 1);
}
