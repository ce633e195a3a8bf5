-- The storefront (issue 22): what Google's product review feed (schema 2.4) identifies a product and
-- a review by, as order events carry it. Beside the GTIN each ordered product already had: its
-- manufacturer part number, brand and the shop's SKU (order_items, one row per product of an order);
-- and the country the order went to (ISO 3166-1 alpha-2: the shipping address's, else the
-- billing's), said as the review's country in the feeds. Written by reviews/intake/orders.py; a
-- buyer's erasure clears the country with the name and address.
ALTER TABLE order_items ADD COLUMN mpn text, ADD COLUMN brand text, ADD COLUMN sku text;
ALTER TABLE orders ADD COLUMN country text CHECK (country ~ '^[A-Z]{2}$');
-- The JSON-LD and feeds look a product up by its id across the shop's orders.
CREATE INDEX order_items_product ON order_items (product_id);
-- When the shop's orders last changed: what its JSON-LD and feeds say of products is that fresh.
CREATE INDEX orders_merchant_updated ON orders (merchant_id, updated_at);
