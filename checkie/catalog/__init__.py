"""What a store sells: checkout pages, variants and options, custom fields, coupons, embeds, page stats."""
