FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY agent agent
COPY payment_tools payment_tools
COPY prompts prompts
COPY evals evals
COPY voicepay voicepay
RUN pip install --no-cache-dir . && useradd --create-home voicepay
USER voicepay
CMD ["voicepay", "worker", "start"]
