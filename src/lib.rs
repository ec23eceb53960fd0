//! pricewatch renders, deploys and operates the ElectroWorld pricing-data
//! pipeline: per-environment CloudFormation and Redshift/PostgreSQL SQL from
//! Tera templates, and the commands that run it.

pub mod config;
