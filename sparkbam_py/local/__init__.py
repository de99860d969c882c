"""The Spark-free driver: the executor code run in this process or in local worker processes."""
