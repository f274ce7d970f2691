output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnets (one per zone) for the Lambda functions and ElastiCache."
  value       = aws_subnet.private[*].id
}

output "lambda_security_group_id" {
  description = "Security group of the Lambda functions."
  value       = aws_security_group.lambda.id
}

output "redis_security_group_id" {
  description = "Security group of ElastiCache (6379 from the Lambda functions only)."
  value       = aws_security_group.redis.id
}

output "nat_public_ips" {
  description = "Elastic IPs of the NAT gateways: the source addresses Atlas sees."
  value       = aws_eip.nat[*].public_ip
}
