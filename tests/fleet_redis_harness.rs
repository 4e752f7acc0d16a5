//! The Redis test harness itself: a real redis-server starts, answers, dies and comes back.
mod support;

use support::redis_server::RedisServer;

#[tokio::test]
async fn a_started_redis_answers_and_a_restarted_one_comes_back_empty() {
    let mut server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(server.raw(&["GET", "k"]).contains("v"));
    let pid = server.pid();
    server.kill();
    assert!(!server.is_running());
    server.restart();
    assert_ne!(server.pid(), pid);
    assert_eq!(server.raw(&["GET", "k"]), "$-1\r\n");
}
