//! Shared by the broadcast benchmarks: a SQLite broadcast store in `dir`
//! with `n` active supergroup subscriptions, written in one transaction.

use customs_ip_bot::state::broadcasts::BroadcastStore;
use customs_ip_bot::state::db::Db;

pub async fn store_with_subscribers(dir: &std::path::Path, n: i64) -> BroadcastStore {
    let store = BroadcastStore::open(&dir.join("state.db")).await.unwrap();
    let Db::Sqlite(pool) = store.db() else {
        unreachable!("opened as SQLite")
    };
    let mut tx = pool.begin().await.unwrap();
    for chat in 1..=n {
        sqlx::query(
            "INSERT INTO subscriptions (chat_id, kind, active) VALUES ($1, 'supergroup', TRUE)",
        )
        .bind(-chat)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    store
}
