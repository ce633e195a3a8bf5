"""Review photos: the processing pipeline (`processing`: decode, strip, resize, encode), the
perceptual fingerprint (`fingerprint`), the content-addressed store of the bytes (`blobs`), the
photos and their states (`store`), serving them (`serving`), the reasons a moderator refuses one
(`reasons`), their alt text (`alt`), and fetching an import's photos (`imports`, through `urlguard`).
Writes `photos` and `photo_blobs`."""
