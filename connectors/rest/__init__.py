"""The Kafka Connect REST API of a worker, served with FastAPI and uvicorn."""
