-- Migrations run through the proxy too.
CREATE SEQUENCE order_seq;
CREATE TABLE orders (id bigint DEFAULT nextval('order_seq') PRIMARY KEY, tenant text, body jsonb);
SET statement_timeout = '30s';
