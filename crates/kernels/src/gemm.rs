//! Matrix products through the `gemm` crate, the one that Flex's `matmul` calls, but writing
//! into a buffer the caller fills: [`crate::linear`] starts its output as the bias, so the
//! product lands on it in one pass instead of Flex's zero-filled output plus a bias pass.
//!
//! This is the crate's only module with `unsafe`: `gemm::gemm` takes raw pointers and strides.
//! Every call goes through [`matmul_into_view`] or [`matmul`], which check beforehand that
//! each element the product reads or writes lies inside its slice.

#![allow(unsafe_code)]

/// Products with at least this many multiply-adds use every rayon thread (Flex's threshold).
const PARALLEL_MULTIPLY_ADDS: usize = 192 * 192 * 192;

/// A strided read-only view of an `f32` matrix: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A view with the given strides.
    ///
    /// # Panics
    /// If an element of the view lies outside `data`.
    pub fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        check_inside(data.len(), rows, cols, row_stride, col_stride);
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// `data` as a row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data` does not hold exactly `rows × cols` values.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a row-major {rows}x{cols} matrix");
        Self::strided(data, rows, cols, cols, 1)
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `range` of the view (no copy).
    ///
    /// # Panics
    /// If `range` reaches past the last row.
    pub fn row_range(self, range: std::ops::Range<usize>) -> Self {
        assert!(
            range.start <= range.end && range.end <= self.rows,
            "rows {range:?} of a view of {} rows",
            self.rows
        );
        let start = (range.start * self.row_stride).min(self.data.len());
        Self {
            data: &self.data[start..],
            rows: range.len(),
            ..self
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Checks that every element `(i, j)` of a `rows × cols` view, at
/// `i * row_stride + j * col_stride`, lies inside a slice of `len` values.
///
/// # Panics
/// If one does not.
fn check_inside(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) {
    if rows > 0 && cols > 0 {
        let last = (rows - 1) * row_stride + (cols - 1) * col_stride;
        assert!(
            last < len,
            "a {rows}x{cols} view with strides ({row_stride}, {col_stride}) reaches element \
             {last} of a slice of {len}"
        );
    }
}

/// A strided writable view of an `f32` matrix with unit column stride: element `(i, j)` is
/// `data[i * row_stride + j]`. Rows do not overlap (`row_stride ≥ cols`), so a view can be
/// a column block of a wider row-major matrix.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
}

impl<'a> MatMut<'a> {
    /// A view of `rows × cols` elements, rows `row_stride` apart.
    ///
    /// # Panics
    /// If rows would overlap or an element of the view lies outside `data`.
    pub fn strided(data: &'a mut [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        assert!(
            rows <= 1 || cols == 0 || row_stride >= cols,
            "rows of {cols} values {row_stride} apart overlap"
        );
        check_inside(data.len(), rows, cols, row_stride, 1);
        Self {
            data,
            rows,
            cols,
            row_stride,
        }
    }

    /// `data` as a row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data` does not hold exactly `rows × cols` values.
    pub fn row_major(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "a row-major {rows}x{cols} matrix");
        Self::strided(data, rows, cols, cols)
    }
}

/// `out = lhs · rhs`, or `out += lhs · rhs` when `accumulate`, with `out` row-major
/// `lhs.rows() × rhs.cols()`. The result depends on the shapes only, not on the number of
/// threads (`gemm` splits the output, never the inner dimension).
///
/// # Panics
/// If the inner dimensions differ or `out` has the wrong length.
pub fn matmul_into(out: &mut [f32], accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    let (m, _, n) = check_product(lhs, rhs);
    matmul_into_view(MatMut::row_major(out, m, n), accumulate, lhs, rhs);
}

/// [`matmul_into`] onto a strided view: `out = lhs · rhs`, or `out += lhs · rhs` when
/// `accumulate`; elements of `out`'s slice outside the view are left as they are.
///
/// # Panics
/// If the inner dimensions differ or `out` is not `lhs.rows() × rhs.cols()`.
pub fn matmul_into_view(out: MatMut<'_>, accumulate: bool, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    let (m, k, n) = check_product(lhs, rhs);
    assert_eq!((out.rows, out.cols), (m, n), "a {m}x{n} product's output");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in out.data.chunks_mut(out.row_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: `MatMut::strided` checked that the view's m·n elements lie inside `out.data`,
    // which is initialised (a `&mut [f32]`), so `product` may read them when `accumulate`;
    // being borrowed mutably, it aliases neither input.
    unsafe { product(out.data.as_mut_ptr(), out.row_stride, accumulate, lhs, rhs) }
}

/// `lhs · rhs` in a new row-major `lhs.rows() × rhs.cols()` buffer that the product writes
/// directly, with no zero-fill before it. Bit for bit [`matmul_into`] without `accumulate`.
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
    let (m, k, n) = check_product(lhs, rhs);
    let len = m.checked_mul(n).expect("a product's size fits usize");
    if len == 0 || k == 0 {
        return vec![0.0; len];
    }
    let mut out = Vec::<f32>::with_capacity(len);
    // SAFETY: the buffer has capacity for the m·n elements and is not aliased; `product`
    // without `read_dst` never reads it (gemm sets its `alpha` to zero, and its kernels then
    // store `beta · lhs · rhs` without loading the destination), and with m, n, k > 0 it
    // writes every element of the m×n output, so all `len` elements are initialised when
    // `set_len` exposes them.
    unsafe {
        product(
            out.spare_capacity_mut().as_mut_ptr().cast(),
            n,
            false,
            lhs,
            rhs,
        );
        out.set_len(len);
    }
    out
}

/// The shape `(m, k, n)` of `lhs · rhs`.
///
/// # Panics
/// If the inner dimensions differ.
fn check_product(lhs: MatRef<'_>, rhs: MatRef<'_>) -> (usize, usize, usize) {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions of a product");
    (lhs.rows, lhs.cols, rhs.cols)
}

/// `gemm` on `dst`, an `lhs.rows() × rhs.cols()` matrix with rows `dst_row_stride` apart
/// and unit column stride, reading it only when `read_dst`.
///
/// # Safety
/// `dst` must be valid for writes of the view's m·n elements (rows not overlapping),
/// initialised when `read_dst`, and alias neither input; the inner dimensions must agree
/// (checked by the callers).
unsafe fn product(
    dst: *mut f32,
    dst_row_stride: usize,
    read_dst: bool,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    let parallelism = if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MULTIPLY_ADDS {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let stride = |s: usize| isize::try_from(s).expect("a stride fits isize");
    // SAFETY: `MatRef::strided` checked that every element (i, j) of `lhs` (i < m, j < k)
    // and of `rhs` (i < k, j < n) lies inside its slice; the caller guarantees `dst` as
    // documented, with column stride 1 and row stride `dst_row_stride`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            stride(dst_row_stride),
            read_dst,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                let mut sum = 0.0f64;
                for p in 0..lhs.cols {
                    let a = lhs.data[i * lhs.row_stride + p * lhs.col_stride];
                    let b = rhs.data[p * rhs.row_stride + j * rhs.col_stride];
                    sum += f64::from(a) * f64::from(b);
                }
                out[i * rhs.cols + j] = sum as f32;
            }
        }
        out
    }

    fn values(n: usize, salt: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2654435761) ^ salt) % 1000) as f32 / 250.0 - 2.0)
            .collect()
    }

    #[test]
    fn products_match_the_naive_loop_on_odd_shapes_and_transposed_views() {
        for (m, k, n) in [
            (1, 1, 1),
            (3, 5, 7),
            (17, 1, 9),
            (33, 65, 2),
            (200, 230, 210),
        ] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let bt = values(n * k, 3);
            for (lhs, rhs) in [
                (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n)),
                (
                    MatRef::row_major(&a, m, k),
                    MatRef::row_major(&bt, n, k).t(),
                ),
            ] {
                let want = naive(lhs, rhs);
                let mut got = vec![f32::NAN; m * n];
                matmul_into(&mut got, false, lhs, rhs);
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "{m}x{k}x{n}: {g} vs {w}"
                    );
                }
                assert_eq!(matmul(lhs, rhs), got, "{m}x{k}x{n}: a new buffer");
                let mut added = vec![1.5; m * n];
                matmul_into(&mut added, true, lhs, rhs);
                for (g, w) in added.iter().zip(&want) {
                    assert!((g - w - 1.5).abs() <= 1e-4 * (1.0 + w.abs()), "accumulate");
                }
            }
        }
    }

    #[test]
    fn a_product_into_a_column_block_leaves_the_other_columns() {
        let (m, k, n, width, offset) = (5, 7, 3, 8, 2);
        let (a, b) = (values(m * k, 4), values(k * n, 5));
        let (lhs, rhs) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let mut wide = vec![9.0; m * width];
        matmul_into_view(
            MatMut::strided(&mut wide[offset..], m, n, width),
            false,
            lhs,
            rhs,
        );
        let block = matmul(lhs, rhs);
        for (i, row) in wide.chunks(width).enumerate() {
            assert_eq!(
                &row[offset..offset + n],
                &block[i * n..(i + 1) * n],
                "row {i}"
            );
            assert!(
                row[..offset]
                    .iter()
                    .chain(&row[offset + n..])
                    .all(|&v| v == 9.0),
                "row {i} outside the block"
            );
        }
        let rows = MatRef::row_major(&a, m, k).row_range(1..4);
        assert_eq!(matmul(rows, rhs), block[n..4 * n].to_vec(), "rows 1..4");
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros_or_keeps_the_output() {
        let mut out = vec![f32::NAN; 6];
        matmul_into(
            &mut out,
            false,
            MatRef::row_major(&[], 2, 0),
            MatRef::row_major(&[], 0, 3),
        );
        assert_eq!(out, vec![0.0; 6]);
        let empty = matmul(MatRef::row_major(&[], 2, 0), MatRef::row_major(&[], 0, 3));
        assert_eq!(empty, vec![0.0; 6]);
        let mut kept = vec![2.0; 6];
        matmul_into(
            &mut kept,
            true,
            MatRef::row_major(&[], 2, 0),
            MatRef::row_major(&[], 0, 3),
        );
        assert_eq!(kept, vec![2.0; 6]);
    }

    #[test]
    fn a_view_past_its_slice_is_refused() {
        let data = [0.0; 5];
        let refused = std::panic::catch_unwind(|| MatRef::strided(&data, 2, 3, 3, 1));
        let message = refused.expect_err("a view past its slice");
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.contains("reaches element 5"), "{message}");
        // The same shape fits a slice of six.
        let _ = MatRef::strided(&[0.0; 6], 2, 3, 3, 1);
    }
}
