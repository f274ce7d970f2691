data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  # Presigned S3 URLs (upload POST, playback GET) use the bucket's global virtual-hosted name; S3 may
  # redirect a young bucket outside us-east-1 to its regional name.
  media_origins = [
    "https://${var.uploads_bucket}.s3.${data.aws_partition.current.dns_suffix}",
    "https://${var.uploads_bucket}.s3.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}",
  ]
  media = join(" ", local.media_origins)
  # devstack/site_server.py's content_security_policy() with this deployment's origins (tests/test_infra.py
  # keeps the two equal): own scripts and styles only, requests to the site, the API and the uploads bucket,
  # media from the uploads bucket and blob: URLs (a chosen file read locally for its duration), no plugins,
  # framed by no one.
  content_security_policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self' ${var.api_origin} ${local.media}; media-src 'self' blob: ${local.media}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

module "bucket" {
  source            = "../bucket"
  name              = "${var.name_prefix}-site-${data.aws_caller_identity.current.account_id}"
  kms_key_arn       = var.kms_key_arn
  versioning        = true
  access_log_bucket = var.access_log_bucket
  force_destroy     = var.force_destroy
  policy_statements = [{
    Sid       = "CloudFrontReadsTheSite"
    Effect    = "Allow"
    Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "s3:GetObject"
    Resource  = "arn:aws:s3:::${var.name_prefix}-site-${data.aws_caller_identity.current.account_id}/*"
    Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
  }]
}

# Written by Terraform so the app always points at this deployment's API and shows the limits its functions
# enforce (devstack/site_server.py serves the same shape locally); never cached.
resource "aws_s3_object" "config" {
  bucket        = module.bucket.id
  key           = "config.json"
  content       = jsonencode({ apiUrl = var.api_url, limits = var.limits })
  content_type  = "application/json"
  cache_control = "no-store"
  kms_key_id    = var.kms_key_arn
}

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = "${var.name_prefix}-site"
  description                       = "Emotionfy web app bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "this" {
  name = "${var.name_prefix}-site"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_68: static assets only; the API has its own throttling and in-app login limits (see modules/api)
  #checkov:skip=CKV2_AWS_47: no WAF on a static site (see CKV_AWS_68)
  #checkov:skip=CKV_AWS_86: CloudFront standard logs need an ACL-enabled bucket; S3 access logs of the origin are kept instead
  #checkov:skip=CKV_AWS_310: a single S3 origin; S3's own availability is the failover
  #checkov:skip=CKV_AWS_174: TLS 1.2 minimum is set when certificate_arn is given; the default *.cloudfront.net certificate cannot pin it
  #checkov:skip=CKV_AWS_374: a public web app: no country is excluded
  #checkov:skip=CKV2_AWS_42: the default CloudFront certificate serves the example; set aliases and certificate_arn for a custom domain
  enabled             = true
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  comment             = "Emotionfy web app"
  default_root_object = "index.html"
  price_class         = var.price_class
  aliases             = var.aliases

  origin {
    origin_id                = "site"
    domain_name              = module.bucket.regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  default_cache_behavior {
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
  }

  ordered_cache_behavior {
    path_pattern               = "/config.json"
    target_origin_id           = "site"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.this.id
  }

  # The app routes in the browser: unknown paths (S3 answers 403 through OAC) serve index.html.
  custom_error_response {
    error_code            = 403
    response_code         = 200
    response_page_path    = "/index.html"
    error_caching_min_ttl = 0
  }

  custom_error_response {
    error_code            = 404
    response_code         = 200
    response_page_path    = "/index.html"
    error_caching_min_ttl = 0
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.certificate_arn == null
    acm_certificate_arn            = var.certificate_arn
    ssl_support_method             = var.certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }
}
