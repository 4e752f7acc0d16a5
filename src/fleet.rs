//! A fleet of replicas sharing routing state through Redis (feature `redis`).
#![cfg_attr(docsrs, doc(cfg(feature = "redis")))]

mod store;
