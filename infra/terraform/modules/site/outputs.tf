output "bucket" {
  description = "Site bucket: upload the built web app here (aws s3 sync frontend/dist ...)."
  value       = module.bucket.id
}

output "distribution_id" {
  description = "CloudFront distribution ID (for cache invalidations after an upload)."
  value       = aws_cloudfront_distribution.this.id
}

output "domain_name" {
  description = "CloudFront domain name of the site."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "origin" {
  description = "The site's origin (EMOTIONFY_CORS_ORIGIN and the uploads bucket's CORS)."
  value       = length(var.aliases) > 0 ? "https://${var.aliases[0]}" : "https://${aws_cloudfront_distribution.this.domain_name}"
}
